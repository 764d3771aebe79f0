"""The draw (抽签): every entrant of a competition gets a random code, unique in the competition and stage.

Stage 1 (一次加密) gives the station or work number (工位号 / 赛位号); stage 2 (二次加密) maps each station number to
a result code for a later stage. Codes are a prefix and a zero-padded number ("A07", "07"); the numbers 1…n are
shuffled, so with 25 entrants the codes are 01…25 in random order.

A draw can be redone until scoring starts (a round left set-up or a rubric locked); a draw for the entrants who
have no code yet (added late) is allowed at any time, since it changes no code already given. Redoing stage 1
clears stage 2, which maps the old station numbers. Every draw is logged (who, when, how many) — never the mapping.
The mapping is sealed: only the event's organizers see it (``competition.permissions.can_see_draw``).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from competition.models import RESULT_STAGE, STAGES, STATION_STAGE, Competition, Draw, DrawCode, Entrant
from competition.services import CompetitionError, audit_competition, lock_competition, scoring_has_started
from extensions import db

PREFIX = re.compile(r"^[A-Z]{0,3}$")
MAX_WIDTH = 6
DEFAULT_PREFIX = {STATION_STAGE: "", RESULT_STAGE: "J"}


def code_width(count: int, width: int | None = None) -> int:
    """Digits of the codes: ``width`` if given (it must hold ``count``), else enough for ``count`` and at least 2."""
    needed = max(2, len(str(max(count, 1))))
    if width is None:
        return needed
    if width < len(str(max(count, 1))):
        raise CompetitionError("width_too_small", _("%(n)d entrants need codes of at least %(w)d digits.",
                                                    n=count, w=len(str(count))), status=422, field="width")
    if width > MAX_WIDTH:
        raise CompetitionError("width_too_large", _("At most %(n)d digits.", n=MAX_WIDTH), status=422, field="width")
    return width


def clean_prefix(prefix: str | None) -> str:
    text = (prefix or "").strip().upper()
    if not PREFIX.match(text):
        raise CompetitionError("bad_prefix", _("A prefix is up to three letters, e.g. A."), status=422, field="prefix")
    return text


def format_code(prefix: str, number: int, width: int) -> str:
    return f"{prefix}{number:0{width}d}"


def shuffled_codes(count: int, rng: random.Random, *, prefix: str = "", width: int | None = None) -> list[str]:
    """``count`` distinct codes in random order: the numbers 1…count, shuffled. Pure."""
    width = code_width(count, width)
    numbers = list(range(1, count + 1))
    rng.shuffle(numbers)
    return [format_code(prefix, n, width) for n in numbers]


def free_codes(taken: set[str], count: int, rng: random.Random, *, prefix: str, width: int) -> list[str]:
    """``count`` codes not in ``taken``: the lowest free numbers, in random order (a late entrant's station number
    follows the others'). Pure."""
    found: list[str] = []
    number = 1
    while len(found) < count:
        if number >= 10 ** width:
            raise CompetitionError("codes_exhausted", _("No free codes of %(w)d digits are left: redo the draw with wider codes.",
                                                        w=width), status=409)
        code = format_code(prefix, number, width)
        if code not in taken:
            found.append(code)
        number += 1
    rng.shuffle(found)
    return found


@dataclass
class DrawOutcome:
    stage: int
    drawn: int  # codes given by this draw
    redo: bool  # codes of an earlier draw were replaced
    cleared_result_codes: bool = False  # a redone stage 1 removed the stage 2 codes
    draw: Draw | None = None


def last_draw(competition: Competition, stage: int) -> Draw | None:
    return db.session.scalar(sa.select(Draw).where(Draw.competition_id == competition.id, Draw.stage == stage))


def draw(competition: Competition, stage: int, *, actor, now: datetime, rng: random.Random | None = None,
         prefix: str | None = None, width: int | None = None, only_missing: bool = False) -> DrawOutcome:
    """Draw (or redraw) the codes of ``stage`` for every entrant of the competition; with ``only_missing``, give
    codes only to the entrants who have none (the format of the last draw is kept). ``rng`` defaults to the
    operating system's randomness. Flushes, never commits."""
    if stage not in STAGES:
        raise CompetitionError("bad_stage", _("Unknown draw stage."), status=404)
    rng = rng or random.SystemRandom()
    # Read the actor's id before anything is added: an actor expired by a commit reloads on this read, and that
    # load autoflushes the session, which must not hold a half-filled Draw row then (drawn_at is NOT NULL).
    actor_id = getattr(actor, "id", None)
    lock_competition(competition)
    entrants = list(db.session.scalars(
        sa.select(Entrant.id).where(Entrant.competition_id == competition.id).order_by(Entrant.id)))
    if not entrants:
        raise CompetitionError("no_entrants", _("The competition has no entrants yet."), status=409)
    existing = {entrant_id: code for entrant_id, code in db.session.execute(
        sa.select(DrawCode.entrant_id, DrawCode.code).where(DrawCode.competition_id == competition.id,
                                                            DrawCode.stage == stage))}
    if stage == RESULT_STAGE:
        stations = set(db.session.scalars(sa.select(DrawCode.entrant_id).where(
            DrawCode.competition_id == competition.id, DrawCode.stage == STATION_STAGE)))
        if set(entrants) - stations:
            raise CompetitionError("station_draw_first", _("Every entrant needs a station number before the second draw."),
                                   status=409)
    previous = last_draw(competition, stage)
    if only_missing and previous is not None:
        return _draw_missing(competition, stage, entrants, existing, previous, actor=actor, actor_id=actor_id,
                             now=now, rng=rng)

    if existing and scoring_has_started(competition):
        raise CompetitionError("scoring_started", _("Scoring has started: the draw can no longer be redone."),
                               status=409)
    prefix = clean_prefix(DEFAULT_PREFIX[stage] if prefix is None else prefix)
    width = code_width(len(entrants), width)
    cleared = False
    stages = [stage]
    if stage == STATION_STAGE:
        cleared = bool(db.session.scalar(sa.select(sa.func.count(DrawCode.id)).where(
            DrawCode.competition_id == competition.id, DrawCode.stage == RESULT_STAGE)))
        stages.append(RESULT_STAGE)
    db.session.execute(sa.delete(DrawCode).where(DrawCode.competition_id == competition.id,
                                                 DrawCode.stage.in_(stages)))
    if cleared:
        db.session.execute(sa.delete(Draw).where(Draw.competition_id == competition.id, Draw.stage == RESULT_STAGE))
    codes = shuffled_codes(len(entrants), rng, prefix=prefix, width=width)
    db.session.execute(sa.insert(DrawCode), [
        {"competition_id": competition.id, "entrant_id": entrant_id, "stage": stage, "code": code, "drawn_at": now}
        for entrant_id, code in zip(entrants, codes)
    ])
    if previous is None:
        previous = Draw(competition_id=competition.id, stage=stage, times=0, drawn_at=now, drawn_by_id=actor_id)
        db.session.add(previous)
    previous.prefix, previous.width, previous.entrants = prefix, width, len(entrants)
    previous.times = (previous.times or 0) + 1
    previous.drawn_at, previous.drawn_by_id = now, actor_id
    db.session.flush()
    audit_competition(actor, competition, "competition.draw", now, stage=stage, entrants=len(entrants), prefix=prefix or None,
           width=width, redo=bool(existing) or None, cleared_result_codes=cleared or None, times=previous.times)
    db.session.flush()
    return DrawOutcome(stage=stage, drawn=len(entrants), redo=bool(existing), cleared_result_codes=cleared,
                       draw=previous)


def _draw_missing(competition: Competition, stage: int, entrants: list[int], existing: dict[int, str],
                  previous: Draw, *, actor, actor_id: int | None, now: datetime, rng: random.Random) -> DrawOutcome:
    missing = [entrant_id for entrant_id in entrants if entrant_id not in existing]
    if not missing:
        raise CompetitionError("nothing_to_draw", _("Every entrant has a code already."), status=409)
    codes = free_codes(set(existing.values()), len(missing), rng, prefix=previous.prefix, width=previous.width)
    db.session.execute(sa.insert(DrawCode), [
        {"competition_id": competition.id, "entrant_id": entrant_id, "stage": stage, "code": code, "drawn_at": now}
        for entrant_id, code in zip(missing, codes)
    ])
    previous.entrants = len(entrants)
    previous.drawn_at, previous.drawn_by_id = now, actor_id
    db.session.flush()
    audit_competition(actor, competition, "competition.draw", now, stage=stage, entrants=len(missing), only_missing=True,
           prefix=previous.prefix or None, width=previous.width)
    db.session.flush()
    return DrawOutcome(stage=stage, drawn=len(missing), redo=False, draw=previous)


@dataclass
class MappingRow:
    entrant: Entrant
    station: str | None
    result: str | None


def sealed_mapping(competition: Competition) -> list[MappingRow]:
    """Entrant -> station number and result code, ordered by station number. Organizers only (the caller checks
    ``can_see_draw``)."""
    codes: dict[tuple[int, int], str] = {
        (entrant_id, stage): code for entrant_id, stage, code in db.session.execute(
            sa.select(DrawCode.entrant_id, DrawCode.stage, DrawCode.code)
            .where(DrawCode.competition_id == competition.id))
    }
    entrants = list(db.session.scalars(
        sa.select(Entrant).where(Entrant.competition_id == competition.id).order_by(Entrant.position, Entrant.id)))
    rows = [MappingRow(entrant=e, station=codes.get((e.id, STATION_STAGE)), result=codes.get((e.id, RESULT_STAGE)))
            for e in entrants]
    rows.sort(key=lambda r: (r.station is None, r.station or "", r.entrant.id))
    return rows


def codes_by_entrant(competition: Competition, stage: int = STATION_STAGE) -> dict[int, str]:
    """entrant id -> code of the stage: what judge-facing pages may show (a query that reads no names)."""
    return dict(db.session.execute(sa.select(DrawCode.entrant_id, DrawCode.code).where(
        DrawCode.competition_id == competition.id, DrawCode.stage == stage)).all())
