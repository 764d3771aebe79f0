"""Which judge scores which entrant: conflicts of interest (回避) and a balanced assignment. Pure (stdlib only).

Conflicts
---------
:func:`conflict_reasons` says why a judge must not score an entrant, from the *sealed identities* (the entrant's
unit and coaches as the organizer entered them), never from the codes judges see:

``unit``
    one of the judge's declared units (单位) is the entrant's unit. Unit names are compared after
    :func:`normalize_unit` (NFKC, case, spaces and brackets ignored): equal names match, and a name of at least
    ``MIN_CONTAINED`` characters contained in the other matches too — a judge from 厦门大学 is kept away from
    厦门大学信息学院 (and 厦门大学附属中学: a conflict rule should rather exclude one judge too many than let one
    score their own people; the organizer sees every exclusion and why).
``coach``
    the judge is linked to the entrant as its coach (指导教师) by the organizer.
``coach_name``
    the judge's name is one of the entrant's coaches' names.

Balanced assignment
-------------------
:func:`suggest_assignment` gives each entrant ``per_entrant`` distinct judges of the panel (or every judge when
``per_entrant`` is ``None``), never a conflicted one, and spreads the work as evenly as the conflicts allow:

* without conflicts every judge's load is ⌊T/J⌋ or ⌈T/J⌉ (T slots, J judges): each judge is within one entrant
  of the average load;
* with conflicts the loads are *lexicographically balanced*: no assignment has a smaller sum of squared loads
  (equivalently, no chain of moves can take one entrant from a judge with load x to a judge with load ≤ x − 2).
  A judge excluded from most entrants simply gets fewer.

Algorithm: keep the current pairs that are still allowed (so a re-run after a small change moves little), fill
the missing slots greedily (entrants with the fewest eligible judges first, each slot to the least-loaded eligible
judge), then repeat improving moves: a breadth-first search over "judge a holds entrant e, judge b may take e"
finds a chain from a judge with load x to one with load ≤ x − 2; shifting every entrant of the chain by one judge
lowers the first load by one and raises the last by one. Each move lowers Σ load² by at least 2, so it ends; when
no chain exists the loads are optimal for every convex measure of imbalance (the exchange argument for
transportation problems: a cheaper solution would contain such a chain).

An entrant with fewer eligible judges than ``per_entrant`` gets all of them and is reported in ``short`` (how many
judges are missing) so that the organizer can add a judge to the panel.

Worked example (three judges A, B, C; entrants 1–4; two judges per entrant; A is from entrant 1's unit)::

    suggest_assignment(["A", "B", "C"], [1, 2, 3, 4], per_entrant=2, conflicts={("A", 1)})
    -> entrant 1: B, C (A excluded); 2: A, B; 3: A, C; 4: A, B — loads A 3, B 3, C 2 (8 slots: 3 + 3 + 2)
"""
from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

MIN_CONTAINED = 4  # a unit name this long (after normalizing) also matches inside a longer one
_IGNORED = re.compile(r"[\s·•・.,，。()（）\[\]【】<>《》\"'“”‘’\-—_/]+")


def normalize_unit(text: str | None) -> str:
    """A unit name as compared: NFKC (full-width letters and digits), lower case, without spaces, brackets and
    punctuation. ``" 厦门大学（思明校区） "`` → ``"厦门大学思明校区"``."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def units_match(judge_unit: str, entrant_unit: str) -> bool:
    a, b = normalize_unit(judge_unit), normalize_unit(entrant_unit)
    if not a or not b:
        return False
    if a == b:
        return True
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return len(shorter) >= MIN_CONTAINED and shorter in longer


def normalize_name(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "").casefold())


@dataclass(frozen=True)
class JudgeIdentity:
    """What decides a judge's conflicts: their name, declared units and the entrants they coach."""

    key: Hashable
    name: str = ""
    units: tuple[str, ...] = ()
    coached: frozenset = frozenset()  # entrant keys


@dataclass(frozen=True)
class EntrantIdentity:
    """The sealed identity of an entrant (never sent to a judge): unit and coaches' names."""

    key: Hashable
    unit: str = ""
    coaches: tuple[str, ...] = ()


def conflict_reasons(judge: JudgeIdentity, entrant: EntrantIdentity) -> list[str]:
    """Why ``judge`` must not score ``entrant``: a list of ``unit`` / ``coach`` / ``coach_name`` (empty: none)."""
    reasons = []
    if any(units_match(unit, entrant.unit) for unit in judge.units):
        reasons.append("unit")
    if entrant.key in judge.coached:
        reasons.append("coach")
    name = normalize_name(judge.name)
    if name and any(normalize_name(coach) == name for coach in entrant.coaches):
        reasons.append("coach_name")
    return reasons


def find_conflicts(judges: Iterable[JudgeIdentity], entrants: Iterable[EntrantIdentity]) -> dict[tuple, list[str]]:
    """``{(judge key, entrant key): reasons}`` for every conflicted pair."""
    entrants = list(entrants)
    found = {}
    for judge in judges:
        for entrant in entrants:
            reasons = conflict_reasons(judge, entrant)
            if reasons:
                found[(judge.key, entrant.key)] = reasons
    return found


@dataclass
class AssignmentPlan:
    """The suggestion: ``pairs`` (judge, entrant) to assign; ``loads`` per judge; ``short``: entrants that got
    fewer judges than asked, with how many are missing; ``excluded``: per entrant, the judges kept away by 回避."""

    pairs: list[tuple] = field(default_factory=list)
    loads: dict = field(default_factory=dict)
    short: dict = field(default_factory=dict)
    excluded: dict = field(default_factory=dict)

    def judges_of(self, entrant) -> list:
        return [j for j, e in self.pairs if e == entrant]


def suggest_assignment(judges: Sequence[Hashable], entrants: Sequence[Hashable], *, per_entrant: int | None,
                       conflicts: Collection[tuple] = (), current: Collection[tuple] = ()) -> AssignmentPlan:
    """A balanced assignment of ``entrants`` to ``judges`` (see the module's docs). ``conflicts`` and ``current``
    are (judge, entrant) pairs; current pairs that are still allowed are kept where the balance permits.
    Deterministic: the same input gives the same plan."""
    if per_entrant is not None and (isinstance(per_entrant, bool) or per_entrant < 1):
        raise ValueError("per_entrant must be at least 1, or None for every judge")
    judges = list(dict.fromkeys(judges))
    entrants = list(dict.fromkeys(entrants))
    conflicted = set(conflicts)
    order = {j: i for i, j in enumerate(judges)}
    eligible = {e: [j for j in judges if (j, e) not in conflicted] for e in entrants}
    excluded = {e: [j for j in judges if (j, e) in conflicted] for e in entrants}
    excluded = {e: found for e, found in excluded.items() if found}
    position = {e: i for i, e in enumerate(entrants)}
    if per_entrant is None:  # every eligible judge; short only when nobody may score the entrant
        need = {e: len(eligible[e]) for e in entrants}
        short = {e: 1 for e in entrants if not eligible[e]}
    else:
        need = {e: min(per_entrant, len(eligible[e])) for e in entrants}
        short = {e: per_entrant - need[e] for e in entrants if need[e] < per_entrant}

    holders: dict = {e: [] for e in entrants}  # entrant -> judges, in the order they were given
    load = {j: 0 for j in judges}

    def give(judge, entrant) -> None:
        holders[entrant].append(judge)
        load[judge] += 1

    # 1. keep what is already assigned and still allowed (at most `need` per entrant, least-loaded judges first)
    kept = sorted({(j, e) for j, e in current if e in holders and j in load and (j, e) not in conflicted},
                  key=lambda pair: (order[pair[0]], position[pair[1]]))
    for judge, entrant in kept:
        if len(holders[entrant]) < need[entrant]:
            give(judge, entrant)

    # 2. fill the missing slots: the most constrained entrants first, each slot to the least-loaded eligible judge
    for entrant in sorted(entrants, key=lambda e: (len(eligible[e]), position[e])):
        while len(holders[entrant]) < need[entrant]:
            candidates = [j for j in eligible[entrant] if j not in holders[entrant]]
            give(min(candidates, key=lambda j: (load[j], order[j])), entrant)

    # 3. improving chains until none is left
    if per_entrant is not None:
        while _improve(judges, entrants, eligible, holders, load, order):
            pass

    pairs = sorted(((j, e) for e in entrants for j in holders[e]), key=lambda p: (position[p[1]], order[p[0]]))
    return AssignmentPlan(pairs=pairs, loads=dict(load), short=short, excluded=excluded)


def _improve(judges, entrants, eligible, holders, load, order) -> bool:
    """Find one chain from a judge with load x to a judge with load ≤ x − 2 and shift along it. True if shifted."""
    holds = {j: [e for e in entrants if j in holders[e]] for j in judges}
    for start in sorted(judges, key=lambda j: (-load[j], order[j])):
        # BFS over judges: from judge a, along an entrant e that a holds, to a judge b eligible for e, not holding it
        previous = {start: None}
        queue = deque([start])
        found = None
        while queue and found is None:
            judge = queue.popleft()
            for entrant in holds[judge]:
                for other in eligible[entrant]:
                    if other in previous or other in holders[entrant]:
                        continue
                    previous[other] = (judge, entrant)
                    if load[other] <= load[start] - 2:
                        found = other
                        break
                    queue.append(other)
                if found is not None:
                    break
        if found is None:
            continue
        chain = []
        node = found
        while previous[node] is not None:
            giver, entrant = previous[node]
            chain.append((giver, entrant, node))
            node = giver
        for giver, entrant, taker in reversed(chain):
            position = holders[entrant].index(giver)
            assert taker not in holders[entrant]
            holders[entrant][position] = taker
        load[start] -= 1
        load[found] += 1
        return True
    return False
