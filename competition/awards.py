"""Award tiers (一等奖 / 二等奖 / 三等奖, 金/银/铜, 优秀奖) for one group's ranking, and a medal table per unit.

Pure module (stdlib only). Input: the :class:`~competition.ranking.Ranking` of one group (or any placings with
``key``, ``rank`` and ``total``), and an :class:`AwardScheme`:

``basis``
    ``share`` — each tier's ``value`` is a percentage of the group's *ranked* entrants (incomplete ones do not
    count); ``count`` — a number of entrants; ``threshold`` — a minimum total (thresholds strictly descending).
``tiers``
    best first, each a :class:`Tier` (``name`` as the organizer wrote it, e.g. "一等奖", and ``value``).
``rounding``
    how ``n × share / 100`` becomes a whole count: half-up (default; 2.5 → 3, *not* to even), up, or down.
``lift_ties``
    ``True`` (default, SPEC): a tie across a boundary lifts every tied entrant into the higher tier.
    ``False``: a tie that does not fit entirely within a tier's cut-off goes down together, so no cut-off is ever
    exceeded (the tier above may then stay below its quota).
``rest``
    a tier name for every other ranked entrant (e.g. "优秀奖"), or ``None``.

The share/count rule (SPEC "Ranks and award quotas")
----------------------------------------------------
With n ranked entrants, ``count_k = round(n × s_k / 100)`` (or the given count) and the cut-off
``c_k = count_1 + … + count_k``. An entrant whose rank is ≤ c_k and who has no higher tier receives tier k. Since
tied entrants share the *best* rank of their tie, a tie across c_k lifts all of them into tier k and tier k + 1
shrinks by as many; more than c_m entrants receive awards only through a tie at the last boundary.

Worked example (SPEC): n = 10, tiers 10 / 20 / 30 % → counts 1, 2, 3 → cut-offs 1, 3, 6. Ranks
1, 2, 3, 3, 5, 6, 7, 8, 9, 10: rank 1 ≤ 1 → 一等奖; ranks 2, 3, 3 ≤ 3 → 二等奖 (the two 3rds are tied across the
cut-off 3 and both lifted); ranks 5, 6 ≤ 6 → 三等奖. So 一等奖 ×1, 二等奖 ×3, 三等奖 ×2.

Output: :class:`AwardResult` — per entrant an :class:`Award` (tier or ``None``, and whether it sat in a tie across a
boundary), and per tier a :class:`TierSummary` (count, cut-off or threshold, how many got it, and the entrants tied
across its cut-off — the leaderboard warns about those while a tie-break could still resolve them).

:func:`medal_table` counts each unit's (school's, company's) tiers and ranks the units by points (e.g. 4/3/2/1),
equal points broken by more of the best tier, then the next (the Olympic way), then shared.

Schemes that make no sense raise :class:`AwardProblem` with a snake_case ``code`` (``no_tiers``,
``duplicate_tier``, ``invalid_value``, ``shares_above_100``, ``thresholds_not_descending``, ``invalid_basis``,
``invalid_rounding``) so a settings form can say what to fix; :func:`scheme_from_rules` reads the JSON the
competition stores (``{"basis", "rounding", "tiers": [{"name", "value"}], "lift_ties", "rest"}``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Protocol

from competition.ranking import Ranking, RankEntry, TieBreak, rank_entries
from judging.values import Rounding

HUNDRED = Decimal(100)


class AwardBasis(str, Enum):
    SHARE = "share"
    COUNT = "count"
    THRESHOLD = "threshold"


class AwardProblem(ValueError):
    def __init__(self, code: str, message: str, **params: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


def _number(value: Any, tier: str) -> Decimal:
    if isinstance(value, (bool, float)) or not isinstance(value, (int, str, Decimal)):
        raise AwardProblem("invalid_value", f"Tier {tier}: enter a number.", tier=tier)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise AwardProblem("invalid_value", f"Tier {tier}: enter a number.", tier=tier) from None
    if not number.is_finite() or number < 0:
        raise AwardProblem("invalid_value", f"Tier {tier}: enter a number of at least 0.", tier=tier)
    return number


@dataclass(frozen=True)
class Tier:
    name: str
    value: Decimal  # share: percent; count: entrants; threshold: minimum total


@dataclass(frozen=True)
class AwardScheme:
    basis: AwardBasis
    tiers: tuple[Tier, ...]
    rounding: Rounding = Rounding.HALF_UP
    lift_ties: bool = True
    rest: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "basis", AwardBasis(self.basis))
        except ValueError:
            raise AwardProblem("invalid_basis", "Choose awards by share, by count or by minimum total.") from None
        try:
            object.__setattr__(self, "rounding", Rounding(self.rounding))
        except ValueError:
            raise AwardProblem("invalid_rounding", "Choose rounding half up, up or down.") from None
        tiers = tuple(Tier(str(t.name).strip(), _number(t.value, str(t.name))) for t in self.tiers)
        if not tiers:
            raise AwardProblem("no_tiers", "Add at least one award tier.")
        names = [t.name for t in tiers] + ([self.rest] if self.rest else [])
        if any(not name for name in names) or len(set(names)) != len(names):
            raise AwardProblem("duplicate_tier", "Every award tier needs its own name.")
        if self.basis is AwardBasis.SHARE:
            if any(t.value > HUNDRED for t in tiers):
                raise AwardProblem("invalid_value", "A share is a percentage from 0 to 100.")
            if sum(t.value for t in tiers) > HUNDRED:
                raise AwardProblem("shares_above_100", "The shares add up to more than 100%.")
        elif self.basis is AwardBasis.COUNT:
            bad = next((t for t in tiers if t.value != t.value.to_integral_value()), None)
            if bad is not None:
                raise AwardProblem("invalid_value", f"Tier {bad.name}: enter a whole number.", tier=bad.name)
        elif any(later.value >= earlier.value for earlier, later in zip(tiers, tiers[1:])):
            raise AwardProblem("thresholds_not_descending", "Each tier's minimum total must be below the one above.")
        object.__setattr__(self, "tiers", tiers)


def scheme_from_rules(rules: Mapping[str, Any]) -> AwardScheme:
    """An :class:`AwardScheme` from the stored JSON form; problems raise :class:`AwardProblem`."""
    tiers = rules.get("tiers") or []
    if not isinstance(tiers, list) or not all(isinstance(t, Mapping) for t in tiers):
        raise AwardProblem("no_tiers", "Add at least one award tier.")
    return AwardScheme(
        basis=rules.get("basis", AwardBasis.SHARE),
        tiers=tuple(Tier(str(t.get("name") or ""), t.get("value")) for t in tiers),
        rounding=rules.get("rounding", Rounding.HALF_UP),
        lift_ties=bool(rules.get("lift_ties", True)),
        rest=(str(rules.get("rest")).strip() or None) if rules.get("rest") else None,
    )


class PlacingLike(Protocol):
    key: Hashable
    rank: int | None
    total: Decimal | None


@dataclass(frozen=True)
class Award:
    key: Hashable
    rank: int | None
    total: Decimal | None
    tier: str | None  # None: no award (or unranked)
    boundary_tie: bool = False  # tied with entrants across a cut-off (lifted with them, or dropped with them)


@dataclass(frozen=True)
class TierSummary:
    tier: str
    quota: int | None  # count_k (share, count); None for thresholds
    cutoff: int | None  # c_k = count_1 + … + count_k; None for thresholds
    threshold: Decimal | None  # the minimum total (threshold basis)
    awarded: int  # entrants who received this tier
    boundary_tie: tuple[Hashable, ...] = ()  # entrants tied across this tier's cut-off


@dataclass(frozen=True, eq=False)
class AwardResult:
    awards: tuple[Award, ...]  # in the ranking's order
    summary: tuple[TierSummary, ...]  # the scheme's tiers, best first (``rest`` not included)
    ranked: int  # n: the ranked entrants the quotas were computed from
    rest: str | None = None
    rest_awarded: int = 0

    def award(self, key: Hashable) -> Award:
        for award in self.awards:
            if award.key == key:
                return award
        raise KeyError(key)

    def tier_of(self, key: Hashable) -> str | None:
        return self.award(key).tier

    @property
    def counts(self) -> dict[str, int]:
        """How many entrants got each tier (including ``rest``), in the scheme's order."""
        counts = {summary.tier: summary.awarded for summary in self.summary}
        if self.rest:
            counts[self.rest] = self.rest_awarded
        return counts

    @property
    def boundary_ties(self) -> tuple[tuple[str, tuple[Hashable, ...]], ...]:
        """``(tier, entrants)`` for every cut-off with a tie across it: what the leaderboard warns about."""
        return tuple((s.tier, s.boundary_tie) for s in self.summary if s.boundary_tie)


def quota_counts(n: int, scheme: AwardScheme) -> tuple[int, ...]:
    """count_k for n ranked entrants: ``n × share / 100`` rounded by the scheme's rule, or the fixed counts."""
    if scheme.basis is AwardBasis.COUNT:
        return tuple(int(t.value) for t in scheme.tiers)
    if scheme.basis is not AwardBasis.SHARE:
        raise ValueError("quota counts exist for share and count schemes only")
    return tuple(int((Decimal(n) * t.value / HUNDRED).quantize(Decimal(1), rounding=scheme.rounding.decimal_rounding))
                 for t in scheme.tiers)


def assign_awards(ranking: Ranking | Iterable[PlacingLike], scheme: AwardScheme) -> AwardResult:
    """The tier of every entrant of one group, and a summary per tier (see the module doc)."""
    placings = list(ranking.placings if isinstance(ranking, Ranking) else ranking)
    ranked = [p for p in placings if p.rank is not None]
    n = len(ranked)
    tie_size = Counter(p.rank for p in ranked)
    tier_of: dict[Hashable, str | None] = {}
    at_boundary: set[Hashable] = set()
    summaries: list[TierSummary] = []

    if scheme.basis is AwardBasis.THRESHOLD:
        for p in ranked:
            tier_of[p.key] = next((t.name for t in scheme.tiers if Decimal(p.total) >= t.value), None)
        for t in scheme.tiers:
            summaries.append(TierSummary(t.name, None, None, t.value,
                                         sum(1 for p in ranked if tier_of[p.key] == t.name)))
    else:
        quotas = quota_counts(n, scheme)
        cutoffs = [sum(quotas[: k + 1]) for k in range(len(quotas))]
        for p in ranked:
            last = p.rank + tie_size[p.rank] - 1  # the last position the entrant's tie occupies
            fits = (lambda c: p.rank <= c) if scheme.lift_ties else (lambda c: last <= c)
            tier_of[p.key] = next((t.name for t, c in zip(scheme.tiers, cutoffs) if fits(c)), None)
        for t, quota, cutoff in zip(scheme.tiers, quotas, cutoffs):
            straddling = tuple(p.key for p in ranked if p.rank <= cutoff < p.rank + tie_size[p.rank] - 1)
            at_boundary.update(straddling)
            summaries.append(TierSummary(t.name, quota, cutoff, None,
                                         sum(1 for p in ranked if tier_of[p.key] == t.name), straddling))

    rest_awarded = 0
    if scheme.rest:
        for p in ranked:
            if tier_of[p.key] is None:
                tier_of[p.key] = scheme.rest
                rest_awarded += 1
    awards = tuple(Award(p.key, p.rank, p.total, tier_of.get(p.key), p.key in at_boundary) for p in placings)
    return AwardResult(awards, tuple(summaries), n, scheme.rest, rest_awarded)


# ------------------------------------------------------------------------------------------------ medal table


@dataclass(frozen=True)
class UnitStanding:
    unit: str
    rank: int
    points: Decimal
    counts: Mapping[str, int]  # tier name → how many of the unit's entrants got it (every tier listed)
    entrants: int  # the unit's ranked entrants


def medal_table(results: Iterable[AwardResult], unit_of: Mapping[Hashable, str | None],
                points: Mapping[str, Decimal | int]) -> tuple[UnitStanding, ...]:
    """Units ranked by points over one or more groups' awards. ``unit_of`` maps an entrant key to its unit (entrants
    without a unit are left out); ``points`` maps a tier name to its points (a tier not named counts 0). Equal
    points are broken by more entrants in the first tier, then the second …; units still equal share a rank."""
    results = list(results)
    tier_names = list(dict.fromkeys(name for result in results for name in result.counts))
    counts: dict[str, Counter] = {}
    entrants: Counter = Counter()
    for result in results:
        for award in result.awards:
            unit = unit_of.get(award.key)
            if not unit or award.rank is None:
                continue
            counts.setdefault(unit, Counter())
            entrants[unit] += 1
            if award.tier is not None:
                counts[unit][award.tier] += 1
    totals = {unit: sum((Decimal(points.get(tier, 0)) * c for tier, c in tally.items()), Decimal(0))
              for unit, tally in counts.items()}
    ranking = rank_entries(
        [RankEntry(unit, totals[unit], {f"tier:{name}": counts[unit][name] for name in tier_names})
         for unit in counts],
        [TieBreak(f"tier:{name}") for name in tier_names],
    )
    return tuple(UnitStanding(p.key, p.rank, totals[p.key], {name: counts[p.key][name] for name in tier_names},
                              entrants[p.key]) for p in ranking.placings)
