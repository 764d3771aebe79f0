"""Aggregation: from the judges' values to each entrant's criterion scores, module subtotals and total.

Pure module (stdlib only: ``decimal``, ``dataclasses``, ``statistics``-free). Arithmetic is ``Decimal`` throughout
(at 80 significant digits, so intermediate results are exact for any real panel) and is rounded to the
competition's :class:`~judging.values.Precision` *only at the end of each step*, as SPEC says: first each
criterion's combined score, then the total. Floats are refused (``TypeError``) so that no binary rounding can
slip in: ``2.675`` combined from 2.67 and 2.68 is 2.68 half-up, where ``round(2.675, 2)`` on floats gives 2.67.

Inputs
------
:class:`Rubric`
    the criteria (:class:`RubricCriterion`: ``key``, ``module`` such as ``"A"``, ``maximum``, ``kind``, optional
    per-criterion ``method``) and optional ``module_weights`` — percentages per module summing to 100 — or
    ``None`` for a plain sum.
``scores``
    ``{entrant: {criterion: {judge: value or None}}}``. The caller lists *every slot that must be filled*: each
    judge assigned to that entrant and criterion (after 回避 exclusions, so panels may differ per entrant), with
    ``None`` where no submitted value exists yet. A measurement criterion entered once has one slot. Values are
    marks (``Decimal`` or ``int``; for ladder criteria use :func:`judging.values.marks_of`). Judge keys and
    entrant keys are any hashable values that sort among themselves (ints or strings).
:class:`CombineRule`
    how a panel's values become one score: ``method`` (:class:`Method`), ``trim_min_judges`` and ``precision``.

Methods (per entrant and criterion)
-----------------------------------
``mean``
    the plain mean.
``trimmed_mean`` (去掉一个最高分和一个最低分)
    with at least ``trim_min_judges`` values (default 5, at least 3) drop the single highest and the single
    lowest and average the rest; *below that the plain mean* — dropping two of four judges would throw half of
    the panel away, and of three would leave one judge deciding. When several judges gave the highest (or
    lowest) value, only one value is dropped; which judge is named as dropped is the first by judge key.
``two_closest``
    for panels of 3: the mean of the two values closest to each other. When both pairs are equally close
    (6, 8, 10) the result is *the average of the tied pairs' means* — (7 + 9) / 2 = 8, which for three values is
    the middle one — so the rule favours neither the higher nor the lower pair. Larger panels: the pair of
    adjacent values with the smallest gap, tied pairs averaged the same way. Fewer than 3 values: plain mean.
``median``
    the middle value; with an even count the mean of the two middle values.

A criterion whose slots are not all filled is *incomplete*: it gets no score, and it is never averaged over the
judges who did score. An entrant with any incomplete criterion has no total and lists what is missing
(criterion, judge). Ranking leaves such entrants unranked.

Totals
------
Module subtotal = the sum of its criteria's (rounded) scores. Without weights the total is the sum of all
criteria. With weights each module counts as its share of the module's maximum times its weight::

    total = Σ_m  subtotal_m / maximum_m × weight_m          (out of 100)

So theory 30% + practice 70%, both out of 100, with 80 and 90 give 0.3 × 80 + 0.7 × 90 = 87; and weights equal to
the module maxima give back the plain sum. The total is rounded once, at the end.

Rounds (:func:`combine_rounds`): the final round alone, or weighted percentages of each round's total relative to
that round's maximum (the same formula as modules); an entrant missing a round's total gets no combined total.

Normalization (beside, never instead)
-------------------------------------
Judges differ in leniency. :func:`normalize` (or ``aggregate(..., normalization=...)``) maps each judge's values
of a judgement criterion onto the panel's scale and recombines them; the result is returned *beside* the raw
results, which stay what ranks and awards use unless the organizer decides otherwise. Per criterion and judge,
over all entrants that judge scored in it:

``z_score``
    centre = the judge's mean, spread = the judge's population standard deviation;
``median_mad``
    centre = the judge's median, spread = the judge's median absolute deviation (robust to one odd score).

The panel's scale is the mean of the judges' centres (C) and the mean of their spreads (S); a value x of judge j
becomes ``C + (x − centre_j) / spread_j × S``, clipped to 0 … maximum, and the panel's adjusted values are then
combined with the same rule as the raw ones. Normalization *refuses* — with a reason per criterion and judge,
never a partial answer — when a judge has fewer than ``min_scores`` values in a criterion (``too_few_scores``;
default 5: a mean and spread from fewer scores say little) or when a judge's values do not vary
(``no_spread``: all equal, or a median absolute deviation of 0). Measurement criteria are not normalized.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from enum import Enum
from typing import Any

from judging.values import CriterionKind, Precision

_PREC = 80
HUNDRED = Decimal(100)


class Method(str, Enum):
    MEAN = "mean"
    TRIMMED_MEAN = "trimmed_mean"
    TWO_CLOSEST = "two_closest"
    MEDIAN = "median"


class NormalizationMethod(str, Enum):
    Z_SCORE = "z_score"
    MEDIAN_MAD = "median_mad"


@dataclass(frozen=True)
class CombineRule:
    """How a panel's values for one entrant and criterion become one score."""

    method: Method = Method.MEAN
    trim_min_judges: int = 5
    precision: Precision = field(default_factory=Precision)

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", Method(self.method))
        if isinstance(self.trim_min_judges, bool) or not isinstance(self.trim_min_judges, int) \
                or self.trim_min_judges < 3:
            raise ValueError("trim_min_judges must be a whole number of at least 3")


@dataclass(frozen=True)
class RubricCriterion:
    key: Hashable
    module: str
    maximum: Decimal
    kind: CriterionKind = CriterionKind.JUDGEMENT
    method: Method | None = None  # None: the CombineRule's method

    def __post_init__(self) -> None:
        object.__setattr__(self, "maximum", _decimal(self.maximum))
        object.__setattr__(self, "kind", CriterionKind(self.kind))
        if self.method is not None:
            object.__setattr__(self, "method", Method(self.method))
        if self.maximum <= 0:
            raise ValueError(f"criterion {self.key!r}: maximum must be above zero")


@dataclass(frozen=True, eq=False)
class Rubric:
    criteria: tuple[RubricCriterion, ...]
    module_weights: Mapping[str, Decimal] | None = None

    def __post_init__(self) -> None:
        criteria = tuple(self.criteria)
        object.__setattr__(self, "criteria", criteria)
        if not criteria:
            raise ValueError("a rubric needs at least one criterion")
        keys = [criterion.key for criterion in criteria]
        if len(set(keys)) != len(keys):
            raise ValueError("criterion keys must be unique")
        if self.module_weights is not None:
            weights = {module: _decimal(weight) for module, weight in self.module_weights.items()}
            if set(weights) != set(self.modules):
                raise ValueError("module weights must name every module of the rubric, and only those")
            if any(weight < 0 for weight in weights.values()) or sum(weights.values()) != HUNDRED:
                raise ValueError("module weights are percentages and must add up to 100")
            object.__setattr__(self, "module_weights", weights)

    @property
    def modules(self) -> tuple[str, ...]:
        """Modules in the order of their first criterion."""
        return tuple(dict.fromkeys(criterion.module for criterion in self.criteria))

    def module_maximum(self, module: str) -> Decimal:
        return sum((c.maximum for c in self.criteria if c.module == module), Decimal(0))

    @property
    def maximum(self) -> Decimal:
        """The highest possible total: 100 with weights, else the sum of the criteria's maxima."""
        if self.module_weights is not None:
            return HUNDRED
        return sum((c.maximum for c in self.criteria), Decimal(0))

    def criterion(self, key: Hashable) -> RubricCriterion:
        for criterion in self.criteria:
            if criterion.key == key:
                return criterion
        raise KeyError(key)


# ---------------------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Combined:
    """One panel's values combined: ``exact`` before rounding, ``score`` rounded to the precision."""

    exact: Decimal
    score: Decimal
    used: tuple[Hashable, ...]  # judges whose values entered the result
    dropped: tuple[Hashable, ...]  # judges whose values did not (trimmed, or not among the closest)
    spread: Decimal  # highest minus lowest value: how much the judges disagree


@dataclass(frozen=True)
class MissingScore:
    criterion: Hashable
    judge: Hashable | None  # None: nobody is assigned to score this criterion for this entrant


@dataclass(frozen=True)
class CriterionScore:
    criterion: Hashable
    score: Decimal | None  # None while incomplete
    exact: Decimal | None
    used: tuple[Hashable, ...] = ()
    dropped: tuple[Hashable, ...] = ()
    missing: tuple[Hashable | None, ...] = ()
    spread: Decimal | None = None

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True, eq=False)
class EntrantResult:
    entrant: Hashable
    criteria: Mapping[Hashable, CriterionScore]
    modules: Mapping[str, Decimal | None]  # subtotal per module, None while one of its criteria is incomplete
    total: Decimal | None  # None while incomplete
    missing: tuple[MissingScore, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class NormalizationRule:
    method: NormalizationMethod = NormalizationMethod.Z_SCORE
    min_scores: int = 5

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", NormalizationMethod(self.method))
        if isinstance(self.min_scores, bool) or not isinstance(self.min_scores, int) or self.min_scores < 2:
            raise ValueError("min_scores must be a whole number of at least 2")


@dataclass(frozen=True)
class NormalizationProblem:
    code: str  # "too_few_scores" | "no_spread"
    criterion: Hashable
    judge: Hashable
    count: int  # how many values the judge gave in this criterion
    needed: int

    @property
    def message(self) -> str:
        if self.code == "too_few_scores":
            return (f"Judge {self.judge} has {self.count} scores in criterion {self.criterion}; normalization needs "
                    f"at least {self.needed}.")
        return f"Judge {self.judge} gave criterion {self.criterion} no spread of scores; it cannot be normalized."


@dataclass(frozen=True, eq=False)
class Normalized:
    """The normalized view, beside the raw one. ``refused`` with ``problems`` — or ``results`` and the adjusted
    per-judge ``values`` (``{criterion: {entrant: {judge: Decimal}}}``, unrounded)."""

    method: NormalizationMethod
    problems: tuple[NormalizationProblem, ...]
    results: Mapping[Hashable, EntrantResult] | None
    values: Mapping[Hashable, Mapping[Hashable, Mapping[Hashable, Decimal]]] | None

    @property
    def refused(self) -> bool:
        return bool(self.problems)


@dataclass(frozen=True, eq=False)
class Aggregation:
    results: Mapping[Hashable, EntrantResult]  # the raw results: what ranks and awards use
    normalized: Normalized | None = None  # only when asked for; never replaces ``results``


# ------------------------------------------------------------------------------------------------- combining


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float) or not isinstance(value, (int, Decimal, str)):
        raise TypeError(f"scores must be Decimal, int or a decimal string, not {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise TypeError("scores must be finite numbers")
    return number


def _sort_key(item: tuple[Hashable, Decimal]) -> tuple[Decimal, Any]:
    return item[1], item[0]


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def _median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def combine(values: Mapping[Hashable, Any], rule: CombineRule = CombineRule(),
            method: Method | None = None) -> Combined:
    """Combine one complete panel ``{judge: value}`` (at least one value) by ``method`` (default: the rule's)."""
    if not values:
        raise ValueError("no values to combine")
    items = sorted(((judge, _decimal(value)) for judge, value in values.items()), key=_sort_key)
    method = Method(method or rule.method)
    numbers = [value for _, value in items]
    n = len(items)
    with localcontext(prec=_PREC):
        kept = items
        if method is Method.MEDIAN:
            exact = _median(numbers)
            if n % 2:
                kept = [items[n // 2]]
            else:
                kept = items[n // 2 - 1: n // 2 + 1]
        elif method is Method.TRIMMED_MEAN and n >= rule.trim_min_judges:
            kept = items[1:-1]
            exact = _mean([value for _, value in kept])
        elif method is Method.TWO_CLOSEST and n >= 3:
            gaps = [items[i + 1][1] - items[i][1] for i in range(n - 1)]
            smallest = min(gaps)
            pairs = [i for i, gap in enumerate(gaps) if gap == smallest]
            exact = _mean([(items[i][1] + items[i + 1][1]) / 2 for i in pairs])
            used_positions = sorted({p for i in pairs for p in (i, i + 1)})
            kept = [items[p] for p in used_positions]
        else:
            exact = _mean(numbers)
    used = {judge for judge, _ in kept}
    return Combined(
        exact=exact,
        score=rule.precision.quantize(exact),
        used=tuple(judge for judge, _ in items if judge in used),
        dropped=tuple(judge for judge, _ in items if judge not in used),
        spread=numbers[-1] - numbers[0],
    )


def score_criterion(criterion: RubricCriterion, slots: Mapping[Hashable, Any] | None,
                    rule: CombineRule = CombineRule()) -> CriterionScore:
    """One entrant's score in one criterion from its slots ``{judge: value or None}`` (see the module doc)."""
    if not slots:
        return CriterionScore(criterion.key, None, None, missing=(None,))
    missing = tuple(sorted(judge for judge, value in slots.items() if value is None))
    if missing:
        return CriterionScore(criterion.key, None, None, missing=missing)
    combined = combine(slots, rule, criterion.method)
    return CriterionScore(criterion.key, combined.score, combined.exact, used=combined.used,
                          dropped=combined.dropped, spread=combined.spread)


def compute_total(rubric: Rubric, scores: Mapping[Hashable, Decimal | None],
                  precision: Precision = Precision()) -> tuple[dict[str, Decimal | None], Decimal | None]:
    """Module subtotals and the total from each criterion's (rounded) score; ``None`` where one is missing."""
    modules: dict[str, Decimal | None] = {}
    for module in rubric.modules:
        parts = [scores.get(c.key) for c in rubric.criteria if c.module == module]
        modules[module] = None if any(part is None for part in parts) else sum(
            (_decimal(part) for part in parts), Decimal(0))
    if any(subtotal is None for subtotal in modules.values()):
        return modules, None
    with localcontext(prec=_PREC):
        if rubric.module_weights is None:
            exact = sum(modules.values(), Decimal(0))
        else:
            exact = sum((modules[m] / rubric.module_maximum(m) * rubric.module_weights[m] for m in rubric.modules),
                        Decimal(0))
    return modules, precision.quantize(exact)


def score_entrant(rubric: Rubric, entrant: Hashable, sheet: Mapping[Hashable, Mapping[Hashable, Any]],
                  rule: CombineRule = CombineRule()) -> EntrantResult:
    """One entrant's result from ``{criterion: {judge: value or None}}``."""
    unknown = set(sheet) - {criterion.key for criterion in rubric.criteria}
    if unknown:
        raise ValueError(f"scores for criteria not in the rubric: {sorted(map(str, unknown))}")
    criteria = {c.key: score_criterion(c, sheet.get(c.key), rule) for c in rubric.criteria}
    missing = tuple(MissingScore(key, judge) for key, result in criteria.items() for judge in result.missing)
    modules, total = compute_total(rubric, {key: result.score for key, result in criteria.items()}, rule.precision)
    return EntrantResult(entrant=entrant, criteria=criteria, modules=modules, total=total, missing=missing)


def compute_results(rubric: Rubric, scores: Mapping[Hashable, Mapping[Hashable, Mapping[Hashable, Any]]],
                    rule: CombineRule = CombineRule()) -> dict[Hashable, EntrantResult]:
    return {entrant: score_entrant(rubric, entrant, sheet, rule) for entrant, sheet in scores.items()}


# --------------------------------------------------------------------------------------------- normalization


def _spread_and_centre(values: Sequence[Decimal], method: NormalizationMethod) -> tuple[Decimal, Decimal]:
    if method is NormalizationMethod.Z_SCORE:
        centre = _mean(values)
        spread = _mean([(value - centre) ** 2 for value in values]).sqrt()
    else:
        centre = _median(values)
        spread = _median([abs(value - centre) for value in values])
    return centre, spread


def normalize(rubric: Rubric, scores: Mapping[Hashable, Mapping[Hashable, Mapping[Hashable, Any]]],
              rule: CombineRule = CombineRule(),
              normalization: NormalizationRule = NormalizationRule()) -> Normalized:
    """The normalized results beside the raw ones (see the module doc); refuses with problems, never partially."""
    adjusted: dict[Hashable, dict[Hashable, dict[Hashable, Decimal]]] = {}
    problems: list[NormalizationProblem] = []
    with localcontext(prec=_PREC):
        for criterion in rubric.criteria:
            if criterion.kind is not CriterionKind.JUDGEMENT:
                continue
            by_judge: dict[Hashable, list[Decimal]] = {}
            for entrant, sheet in scores.items():
                for judge, value in (sheet.get(criterion.key) or {}).items():
                    if value is not None:
                        by_judge.setdefault(judge, []).append(_decimal(value))
            scale: dict[Hashable, tuple[Decimal, Decimal]] = {}
            for judge in sorted(by_judge):
                values = by_judge[judge]
                if len(values) < normalization.min_scores:
                    problems.append(NormalizationProblem("too_few_scores", criterion.key, judge, len(values),
                                                         normalization.min_scores))
                    continue
                centre, spread = _spread_and_centre(values, normalization.method)
                if spread == 0:
                    problems.append(NormalizationProblem("no_spread", criterion.key, judge, len(values),
                                                         normalization.min_scores))
                    continue
                scale[judge] = (centre, spread)
            if problems or not scale:
                continue
            panel_centre = _mean([centre for centre, _ in scale.values()])
            panel_spread = _mean([spread for _, spread in scale.values()])
            per_entrant: dict[Hashable, dict[Hashable, Decimal]] = {}
            for entrant, sheet in scores.items():
                for judge, value in (sheet.get(criterion.key) or {}).items():
                    if value is None:
                        continue
                    centre, spread = scale[judge]
                    mapped = panel_centre + (_decimal(value) - centre) / spread * panel_spread
                    per_entrant.setdefault(entrant, {})[judge] = min(max(mapped, Decimal(0)), criterion.maximum)
            adjusted[criterion.key] = per_entrant
    if problems:
        return Normalized(normalization.method, tuple(problems), None, None)
    normalized_scores = {
        entrant: {
            key: ({judge: adjusted[key].get(entrant, {}).get(judge) if value is not None else None
                   for judge, value in slots.items()} if key in adjusted else slots)
            for key, slots in sheet.items()
        }
        for entrant, sheet in scores.items()
    }
    return Normalized(normalization.method, (), compute_results(rubric, normalized_scores, rule), adjusted)


def aggregate(rubric: Rubric, scores: Mapping[Hashable, Mapping[Hashable, Mapping[Hashable, Any]]],
              rule: CombineRule = CombineRule(), normalization: NormalizationRule | None = None) -> Aggregation:
    """Raw results for every entrant, and the normalized view beside them when ``normalization`` is given."""
    results = compute_results(rubric, scores, rule)
    return Aggregation(results, normalize(rubric, scores, rule, normalization) if normalization else None)


# ------------------------------------------------------------------------------------------------------ rounds


@dataclass(frozen=True)
class RoundTotal:
    total: Decimal | None  # None: the entrant is incomplete in this round
    maximum: Decimal  # the round's highest possible total (Rubric.maximum)


@dataclass(frozen=True, eq=False)
class RoundScheme:
    """Exactly one of: ``final_round`` (that round's total alone) or ``weights`` (percentages summing to 100)."""

    final_round: Hashable | None = None
    weights: Mapping[Hashable, Decimal] | None = None

    def __post_init__(self) -> None:
        if (self.final_round is None) == (self.weights is None):
            raise ValueError("give either the final round or the round weights")
        if self.weights is not None:
            weights = {key: _decimal(weight) for key, weight in self.weights.items()}
            if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) != HUNDRED:
                raise ValueError("round weights are percentages and must add up to 100")
            object.__setattr__(self, "weights", weights)


@dataclass(frozen=True)
class RoundsResult:
    total: Decimal | None
    missing: tuple[Hashable, ...]  # rounds whose total is needed but missing


def combine_rounds(totals: Mapping[Hashable, RoundTotal], scheme: RoundScheme,
                   precision: Precision = Precision()) -> RoundsResult:
    """One entrant's overall total from its round totals: the final round alone, or weighted (out of 100)."""
    needed = [scheme.final_round] if scheme.weights is None else list(scheme.weights)
    missing = tuple(key for key in needed if key not in totals or totals[key].total is None)
    if missing:
        return RoundsResult(None, missing)
    if scheme.weights is None:
        return RoundsResult(precision.quantize(_decimal(totals[scheme.final_round].total)), ())
    with localcontext(prec=_PREC):
        exact = sum((_decimal(totals[key].total) / _decimal(totals[key].maximum) * weight
                     for key, weight in scheme.weights.items()), Decimal(0))
    return RoundsResult(precision.quantize(exact), ())
