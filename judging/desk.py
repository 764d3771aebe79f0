"""The chief judge's desk (裁判长工作台): progress, disagreements and outlying judges, computed from plain rows.

Pure module (stdlib only). Values are ``Decimal``; floats are refused so that a threshold is never crossed by a
binary rounding. Nothing here knows entrants' names: entrants and judges are opaque keys.

Progress
--------
:func:`compute_progress` turns one row per (judge, entrant) slot — the judge's criteria of that entrant and how
many are blank, draft or submitted, plus the time of the last change — into a matrix judges × entrants with a
state per cell:

``not_started``  no value entered yet;
``draft``        some values entered (or all, not yet submitted), or reopened by the chief judge;
``submitted``    every criterion of the judge's share submitted.

A judge is *behind* when their share of submitted entrants is lower than the panel's median share by more than
``behind_margin`` (default 20 percentage points) — the slow tablet shows up while the others are still working.
An entrant is *waiting on one judge* when every other judge submitted and exactly one has not: that cell is the
one to chase.

Disagreements (spread)
----------------------
:func:`spread_flags`: per entrant and criterion, the panel's submitted values. A ladder criterion (0–3 levels) is
flagged when max − min exceeds ``ladder_levels`` (default 1: levels 1 and 3 disagree, 1 and 2 do not); any other
criterion when max − min exceeds ``share`` × maximum (default 0.30: on a 20-point criterion a spread of 6.5 is
flagged, 6 is not). Fewer than two values: nothing to compare.

Worked example: B1 (max 20) with 12, 18.5, 15 → spread 6.5 > 6 → flagged; B2 (ladder) with levels 1, 3, 2 →
spread 2 > 1 → flagged; with 2, 3, 3 → spread 1 → not flagged.

Outlying judges
---------------
:func:`outlier_judges`: per judge, over every (entrant, criterion) they scored together with at least one other
judge, the deviation of their value from the mean of the *other* judges' values, as a share of the criterion's
maximum (a ladder criterion counts in levels out of 3). The judge is flagged when they scored at least
``min_entrants`` (default 5) distinct entrants with others and the mean absolute deviation exceeds ``share``
(default 0.15). The signed mean says which way: positive = more lenient than the panel, negative = stricter.

Worked example: judge W gives 18 where the other two gave 12 and 13 (max 20): deviation (18 − 12.5) / 20 = 0.275.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

LADDER_TOP = Decimal(3)


class CellState(str, Enum):
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool):
        raise TypeError("use Decimal or int, never float or bool")
    return value if isinstance(value, Decimal) else Decimal(value)


# ---------------------------------------------------------------- progress


@dataclass(frozen=True)
class SlotRow:
    """One judge's criteria of one entrant: how many there are and how many are filled in / submitted."""

    judge: Hashable
    entrant: Hashable
    required: int
    filled: int = 0
    submitted: int = 0
    last_change: datetime | None = None
    reopened: bool = False  # a submitted score was given back by the chief judge (unlock or re-score)


@dataclass
class Cell:
    state: CellState
    filled: int
    required: int
    last_change: datetime | None
    reopened: bool


@dataclass
class JudgeProgress:
    judge: Hashable
    assigned: int
    submitted: int
    drafts: int
    last_change: datetime | None
    behind: bool = False

    @property
    def share(self) -> Decimal:
        return Decimal(self.submitted) / Decimal(self.assigned) if self.assigned else Decimal(1)


@dataclass
class EntrantProgress:
    entrant: Hashable
    judges: int
    submitted: int
    waiting_on: Hashable | None  # the one judge every other judge is waiting for

    @property
    def done(self) -> bool:
        return self.judges > 0 and self.submitted == self.judges


@dataclass
class Progress:
    judges: list[Hashable]
    entrants: list[Hashable]
    cells: dict[tuple[Hashable, Hashable], Cell]  # (judge, entrant) -> cell; missing: not assigned
    by_judge: dict[Hashable, JudgeProgress]
    by_entrant: dict[Hashable, EntrantProgress]
    last_change: datetime | None

    @property
    def submitted(self) -> int:
        return sum(1 for c in self.cells.values() if c.state == CellState.SUBMITTED)

    @property
    def slots(self) -> int:
        return len(self.cells)


def cell_state(row: SlotRow) -> CellState:
    if row.required and row.submitted >= row.required:
        return CellState.SUBMITTED
    if row.filled or row.submitted or row.reopened:
        return CellState.DRAFT
    return CellState.NOT_STARTED


def _median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def compute_progress(rows: Iterable[SlotRow], *, judges: Iterable[Hashable] = (), entrants: Iterable[Hashable] = (),
                     behind_margin: Decimal = Decimal("0.2")) -> Progress:
    """The matrix for one panel. ``judges`` and ``entrants`` give the display order (keys only seen in ``rows``
    are appended in the order met)."""
    judge_order = list(dict.fromkeys(judges))
    entrant_order = list(dict.fromkeys(entrants))
    cells: dict[tuple[Hashable, Hashable], Cell] = {}
    for row in rows:
        if row.judge not in judge_order:
            judge_order.append(row.judge)
        if row.entrant not in entrant_order:
            entrant_order.append(row.entrant)
        cells[(row.judge, row.entrant)] = Cell(state=cell_state(row), filled=row.filled, required=row.required,
                                               last_change=row.last_change, reopened=row.reopened)
    by_judge: dict[Hashable, JudgeProgress] = {}
    for judge in judge_order:
        mine = [c for (j, _e), c in cells.items() if j == judge]
        changes = [c.last_change for c in mine if c.last_change is not None]
        by_judge[judge] = JudgeProgress(
            judge=judge, assigned=len(mine), submitted=sum(1 for c in mine if c.state == CellState.SUBMITTED),
            drafts=sum(1 for c in mine if c.state == CellState.DRAFT), last_change=max(changes, default=None))
    active = [p for p in by_judge.values() if p.assigned]
    if len(active) >= 2:
        median = _median([p.share for p in active])
        for p in active:
            p.behind = p.share < 1 and median - p.share > behind_margin
    by_entrant: dict[Hashable, EntrantProgress] = {}
    for entrant in entrant_order:
        theirs = {j: c for (j, e), c in cells.items() if e == entrant}
        open_ = [j for j, c in theirs.items() if c.state != CellState.SUBMITTED]
        by_entrant[entrant] = EntrantProgress(
            entrant=entrant, judges=len(theirs), submitted=len(theirs) - len(open_),
            waiting_on=open_[0] if len(open_) == 1 and len(theirs) >= 2 else None)
    changes = [c.last_change for c in cells.values() if c.last_change is not None]
    return Progress(judges=judge_order, entrants=entrant_order, cells=cells, by_judge=by_judge,
                    by_entrant=by_entrant, last_change=max(changes, default=None))


# ---------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Thresholds:
    ladder_levels: Decimal = Decimal(1)  # a ladder criterion is flagged when max − min exceeds this many levels
    spread_share: Decimal = Decimal("0.30")  # other criteria: when max − min exceeds this share of the maximum
    outlier_share: Decimal = Decimal("0.15")  # a judge: mean |deviation| beyond this share of the maximum
    outlier_min_entrants: int = 5  # … over at least this many entrants scored with others

    def __post_init__(self):
        for name in ("ladder_levels", "spread_share", "outlier_share"):
            value = _decimal(getattr(self, name))
            if value < 0:
                raise ValueError(f"{name} must not be negative")
            object.__setattr__(self, name, value)
        if self.outlier_min_entrants < 1:
            raise ValueError("outlier_min_entrants must be at least 1")


@dataclass(frozen=True)
class CriterionInfo:
    key: Hashable
    maximum: Decimal
    ladder: bool = False

    @property
    def scale(self) -> Decimal:
        """What a deviation is measured against: levels out of 3 for a ladder, else the maximum."""
        return LADDER_TOP if self.ladder else _decimal(self.maximum)


# ---------------------------------------------------------------- spread flags


@dataclass
class SpreadFlag:
    entrant: Hashable
    criterion: Hashable
    values: dict[Hashable, Decimal]  # judge -> value (the level for a ladder criterion)
    spread: Decimal
    limit: Decimal  # the spread allowed (levels or points)
    ladder: bool
    high: list[Hashable] = field(default_factory=list)  # judges who gave the highest value
    low: list[Hashable] = field(default_factory=list)  # … and the lowest


def spread_limit(criterion: CriterionInfo, thresholds: Thresholds) -> Decimal:
    if criterion.ladder:
        return thresholds.ladder_levels
    return _decimal(criterion.maximum) * thresholds.spread_share


def spread_flags(values: Mapping[Hashable, Mapping[Hashable, Mapping[Hashable, Any]]],
                 criteria: Mapping[Hashable, CriterionInfo], thresholds: Thresholds = Thresholds()) -> list[SpreadFlag]:
    """``values``: {entrant: {criterion: {judge: value}}} of submitted values. Flags in the order given."""
    flags = []
    for entrant, by_criterion in values.items():
        for criterion_key, by_judge in by_criterion.items():
            criterion = criteria.get(criterion_key)
            present = {j: _decimal(v) for j, v in by_judge.items() if v is not None}
            if criterion is None or len(present) < 2:
                continue
            high, low = max(present.values()), min(present.values())
            spread = high - low
            limit = spread_limit(criterion, thresholds)
            if spread > limit:
                flags.append(SpreadFlag(
                    entrant=entrant, criterion=criterion_key, values=present, spread=spread, limit=limit,
                    ladder=criterion.ladder, high=sorted((j for j, v in present.items() if v == high), key=str),
                    low=sorted((j for j, v in present.items() if v == low), key=str)))
    return flags


# ---------------------------------------------------------------- outlying judges


@dataclass
class JudgeDeviation:
    judge: Hashable
    entrants: int  # distinct entrants scored together with other judges
    comparisons: int  # (entrant, criterion) pairs compared
    mean_abs: Decimal  # mean |value − others' mean| / scale
    mean_signed: Decimal  # positive: more lenient than the panel
    flagged: bool


def judge_deviations(values: Mapping[Hashable, Mapping[Hashable, Mapping[Hashable, Any]]],
                     criteria: Mapping[Hashable, CriterionInfo],
                     thresholds: Thresholds = Thresholds()) -> dict[Hashable, JudgeDeviation]:
    """Every judge's deviation from the others (see the module's text); ``flagged`` when beyond the threshold."""
    sums: dict[Hashable, list] = {}
    for entrant, by_criterion in values.items():
        for criterion_key, by_judge in by_criterion.items():
            criterion = criteria.get(criterion_key)
            present = {j: _decimal(v) for j, v in by_judge.items() if v is not None}
            if criterion is None or len(present) < 2 or criterion.scale <= 0:
                continue
            total = sum(present.values(), Decimal(0))
            for judge, value in present.items():
                others = (total - value) / (len(present) - 1)
                deviation = (value - others) / criterion.scale
                entry = sums.setdefault(judge, [set(), 0, Decimal(0), Decimal(0)])
                entry[0].add(entrant)
                entry[1] += 1
                entry[2] += abs(deviation)
                entry[3] += deviation
    found = {}
    for judge, (entrants, count, absolute, signed) in sums.items():
        mean_abs, mean_signed = absolute / count, signed / count
        found[judge] = JudgeDeviation(
            judge=judge, entrants=len(entrants), comparisons=count, mean_abs=mean_abs, mean_signed=mean_signed,
            flagged=len(entrants) >= thresholds.outlier_min_entrants and mean_abs > thresholds.outlier_share)
    return found


def outlier_judges(values, criteria, thresholds: Thresholds = Thresholds()) -> list[JudgeDeviation]:
    """The flagged judges, farthest first."""
    flagged = [d for d in judge_deviations(values, criteria, thresholds).values() if d.flagged]
    return sorted(flagged, key=lambda d: (-d.mean_abs, str(d.judge)))
