"""Ranking within a group (组别): standard competition ranking with ties (1, 2, 2, 4) and an optional tie-break chain.

Pure module (stdlib only). The caller ranks one group (or, where the organizer wants an overall list, everyone).

Inputs
------
:class:`RankEntry`
    ``key`` (an entrant id, or any hashable; keys must sort among themselves), ``total`` (a ``Decimal``, or
    ``None`` for an entrant whose scores are incomplete) and ``tiebreaks``: the values the tie-break chain looks
    at, by tie-break name, e.g. ``{"module_B": Decimal("41.50"), "finished_at": datetime(...)}``.
:class:`TieBreak`
    ``name`` and which value is ``better`` — ``"higher"`` (a module subtotal, the judgement total) or
    ``"lower"`` (a completion time, a drawn lot's number). The chain is applied in the order given, as published
    competition rules list them ("total → module B → shorter completion time → …"). How the chain *ends* is
    itself data: a recorded drawing of lots, or the chief judge's recorded decision, is one more tie-break whose
    values are the positions drawn or decided (``better="lower"``); with nothing more, tied entrants share a rank
    (并列).

Rules
-----
* Higher totals rank first. Entrants with equal totals (``Decimal`` equality: 90.5 equals 90.50) are tied.
* A tie is handed to the first tie-break of the chain: the tied entrants are ordered by its value, and those still
  equal go on to the next tie-break, and so on. A tie-break only ever reorders entrants *within* a tie: it never
  moves anyone past an entrant with a different total (or, further down, a different earlier tie-break value).
* A tie-break applies to a tie only if *every* tied entrant has a value for it; if one lacks it (``None`` or
  absent: a time not recorded, lots not drawn yet) it is skipped for that tie, never guessed, and the skip is
  reported in :attr:`Ranking.skipped`.
* rank = 1 + the number of entrants placed strictly ahead. Entrants still tied share the rank and the next rank is
  skipped: 1, 2, 2, 4.
* Entrants whose total is ``None`` are *unranked*: listed after the ranked ones (by key), with ``rank=None``.

Output: :class:`Ranking` — ``placings`` in order (ranked by rank then key, then unranked), the
:class:`Separation` records that say which tie-break separated whom, ties left ``unresolved`` (the leaderboard warns
about these when they straddle an award boundary: see :mod:`competition.awards`) and ``skipped`` tie-breaks.

Example (by hand): totals A 90, B 85, C 85, D 85, E 80 with the chain [module_B higher]: B 40, C 42, D 40 →
C is 2nd; B and D are still tied (40 = 40) and share 3rd; E is 5th. Ranks A 1, C 2, B 3, D 3, E 5. One
separation: ``Separation("module_B", total=85, groups=(("C",), ("B", "D")))``; unresolved: ``(("B", "D"),)``.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from itertools import groupby
from typing import Any


class Better(str, Enum):
    HIGHER = "higher"
    LOWER = "lower"


@dataclass(frozen=True)
class TieBreak:
    name: str
    better: Better = Better.HIGHER

    def __post_init__(self) -> None:
        object.__setattr__(self, "better", Better(self.better))


@dataclass(frozen=True, eq=False)
class RankEntry:
    key: Hashable
    total: Decimal | None
    tiebreaks: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = self.total
        if total is not None and (isinstance(total, (bool, float)) or not isinstance(total, (int, Decimal))
                                  or not Decimal(total).is_finite()):
            raise TypeError(f"total of {self.key!r} must be a finite Decimal or None")


@dataclass(frozen=True)
class Placing:
    key: Hashable
    rank: int | None  # None: unranked (incomplete scores)
    total: Decimal | None
    tied: bool = False  # shares its rank with another entrant
    decided_by: tuple[str, ...] = ()  # tie-breaks that separated this entrant from others with its total


@dataclass(frozen=True)
class Separation:
    """Tie-break ``tiebreak`` split entrants tied on ``total`` (and on the earlier tie-breaks) into ``groups``,
    best first; entrants inside one group were still equal on it."""

    tiebreak: str
    total: Decimal
    groups: tuple[tuple[Hashable, ...], ...]


@dataclass(frozen=True)
class Skipped:
    """Tie-break ``tiebreak`` could not be applied to the tie ``keys``: ``lacking`` have no value for it."""

    tiebreak: str
    keys: tuple[Hashable, ...]
    lacking: tuple[Hashable, ...]


@dataclass(frozen=True, eq=False)
class Ranking:
    placings: tuple[Placing, ...]
    separations: tuple[Separation, ...] = ()
    unresolved: tuple[tuple[Hashable, ...], ...] = ()  # entrants still sharing a rank, each tuple one tie
    skipped: tuple[Skipped, ...] = ()

    @property
    def ranked(self) -> tuple[Placing, ...]:
        return tuple(p for p in self.placings if p.rank is not None)

    @property
    def unranked(self) -> tuple[Placing, ...]:
        return tuple(p for p in self.placings if p.rank is None)

    def placing(self, key: Hashable) -> Placing:
        for placing in self.placings:
            if placing.key == key:
                return placing
        raise KeyError(key)

    def rank_of(self, key: Hashable) -> int | None:
        return self.placing(key).rank


def _sorted_keys(keys: Iterable[Hashable]) -> list[Hashable]:
    keys = list(keys)
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=repr)


def _ordered_groups(entries: Sequence[RankEntry], value, descending: bool) -> list[list[RankEntry]]:
    """Entries grouped by equal ``value(entry)``, best group first."""
    ordered = sorted(entries, key=value, reverse=descending)
    return [list(group) for _, group in groupby(ordered, key=value)]


class _Chain:
    def __init__(self, chain: Sequence[TieBreak]):
        self.chain = tuple(chain)
        self.separations: list[Separation] = []
        self.skipped: list[Skipped] = []
        self.decided_by: dict[Hashable, list[str]] = {}

    def order(self, tie: list[RankEntry], total: Decimal, start: int = 0) -> list[list[RankEntry]]:
        """Blocks of entries, best first; the entries of one block stay tied."""
        for index in range(start, len(self.chain)):
            if len(tie) < 2:
                break
            tiebreak = self.chain[index]
            lacking = [e.key for e in tie if e.tiebreaks.get(tiebreak.name) is None]
            if lacking:
                self.skipped.append(Skipped(tiebreak.name, tuple(_sorted_keys(e.key for e in tie)),
                                            tuple(_sorted_keys(lacking))))
                continue
            groups = _ordered_groups(tie, lambda e: e.tiebreaks[tiebreak.name], tiebreak.better is Better.HIGHER)
            if len(groups) == 1:
                continue
            self.separations.append(Separation(tiebreak.name, total,
                                               tuple(tuple(_sorted_keys(e.key for e in g)) for g in groups)))
            for entry in tie:
                self.decided_by.setdefault(entry.key, []).append(tiebreak.name)
            blocks: list[list[RankEntry]] = []
            for group in groups:
                blocks.extend(self.order(group, total, index + 1))
            return blocks
        return [tie]


def rank_entries(entries: Iterable[RankEntry], chain: Sequence[TieBreak] = ()) -> Ranking:
    """Rank one group's entries (see the module doc). Duplicate keys or tie-break names raise ``ValueError``."""
    entries = list(entries)
    keys = [entry.key for entry in entries]
    if len(set(keys)) != len(keys):
        raise ValueError("entrant keys must be unique")
    names = [tiebreak.name for tiebreak in chain]
    if len(set(names)) != len(names):
        raise ValueError("tie-break names must be unique")
    ranked = [entry for entry in entries if entry.total is not None]
    unranked = [entry for entry in entries if entry.total is None]
    resolver = _Chain(chain)
    placings: list[Placing] = []
    unresolved: list[tuple[Hashable, ...]] = []
    ahead = 0
    for tie in _ordered_groups(ranked, lambda e: Decimal(e.total), descending=True):
        for block in resolver.order(tie, Decimal(tie[0].total)):
            block_keys = _sorted_keys(entry.key for entry in block)
            by_key = {entry.key: entry for entry in block}
            if len(block) > 1:
                unresolved.append(tuple(block_keys))
            for key in block_keys:
                placings.append(Placing(key, ahead + 1, by_key[key].total, tied=len(block) > 1,
                                        decided_by=tuple(resolver.decided_by.get(key, ()))))
            ahead += len(block)
    for key in _sorted_keys(entry.key for entry in unranked):
        placings.append(Placing(key, None, None))
    return Ranking(tuple(placings), tuple(resolver.separations), tuple(unresolved), tuple(resolver.skipped))
