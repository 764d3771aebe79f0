"""Statistics of events and of an organization's year or half year (issue 10).

Queries go into plain dataclasses; nothing is stored. The definitions (docs/statistics.md, also in small print on
the pages):

- 报名 (sign-ups received): every sign-up made, whatever became of it; shown by status and over time.
- 有效报名 (confirmed sign-ups): sign-ups whose status is *approved*. Pending, waitlisted, rejected and cancelled
  ones are not counted in any figure below.
- 报名人次 (persons signed up): the people of the confirmed sign-ups, counted per event: an individual sign-up is one,
  a team sign-up is every person on it (leader, members and coaches).
- 签到人次 (persons who came): the people of sign-ups with a standing check-in (not undone) at the event or at any of
  its sessions. 签到率 (check-in rate) of a session: sign-ups checked in at that session ÷ confirmed sign-ups expected
  there (those that chose it; all confirmed sign-ups when nobody chose sessions). 未到 (no-shows): confirmed sign-ups
  with no standing check-in anywhere in the event, counted once the event has started.
- Distinct people (人数): persons of the confirmed sign-ups told apart by their normalized phone number; without a
  phone by e-mail; without either by name and unit.
- Distinct units (单位数): the unit of each confirmed sign-up, normalized (full-width → half-width, spaces removed,
  letters case-folded, 股份有限公司 / 有限责任公司 / 有限公司 → 公司); sign-ups without a unit are not counted.
- First-time (首次参加): a person whose first confirmed sign-up at any event of the association — the root
  organization and all its branches — is at this event (per event: no confirmed sign-up at an event of the association
  that started earlier), or falls in the period (per year or half year). Everyone else is returning (再次参加).
- Events of a period: published or archived events (drafts never count) that start in the period, in the
  organization's time zone (Asia/Shanghai). A half year is January–June or July–December.
- Competitions: entrants (参赛队/参赛者) from the competition's entrant list; awards by tier from the published results
  only (competition.results.published_awards): a competition whose results are not published — or frozen (封榜) — is
  listed as not published and not counted in awards.
- Certificates: valid (not revoked) certificates of the period's events.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import Organization
from core.errors import DomainError
from events.models import Event, EventKind, EventState
from extensions import db

ORGANIZATION_TIMEZONE = "Asia/Shanghai"
FIRST_YEAR, LAST_YEAR = 2000, 2100
KIND_ORDER = [k.value for k in EventKind]
TOP_UNITS = 15


class StatsError(DomainError):
    pass


# ================================================================ pure helpers


def rate(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent with one decimal place, rounded half up, by exact integer arithmetic; None
    when there is nothing to divide by.

    >>> rate(291, 316), rate(1, 3), rate(2, 3), rate(0, 5), rate(3, 0)
    (Decimal('92.1'), Decimal('33.3'), Decimal('66.7'), Decimal('0.0'), None)
    """
    if whole <= 0:
        return None
    tenths = (part * 2000 + whole) // (2 * whole)  # round(part * 1000 / whole), halves up
    return Decimal(tenths).scaleb(-1)


def format_count(n: int) -> str:
    """Thousands separated by commas, as in a work report: 1,234."""
    return f"{n:,}"


def format_rate(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


_SPACES = re.compile(r"\s+")
_COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司")


def unit_key(raw: str | None) -> str | None:
    """The unit's name normalized for counting distinct units; None when no unit was given.

    >>> unit_key(" 厦门鉴真云计算有限公司 ") == unit_key("厦门鉴真云计算公司") == unit_key("厦门鉴真云计算股份有限公司")
    True
    >>> unit_key("ＡＢＣ 学院") == unit_key("abc学院"), unit_key("  ")
    (True, None)
    """
    text = _SPACES.sub("", unicodedata.normalize("NFKC", raw or "")).casefold()
    for suffix in _COMPANY_SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)] + "公司"
            break
    return text or None


def person_key(phone: str | None, email: str | None = None, name: str | None = None,
               unit: str | None = None) -> str | None:
    """Who a person is, for counting distinct people: the normalized phone; else the e-mail; else name and unit.

    >>> person_key("+86 138-0013-8000") == person_key("13800138000")
    True
    >>> person_key(None, "A@X.org"), person_key("", None, " 王 伟", "厦门大学")
    ('e:a@x.org', 'n:王伟|厦门大学')
    """
    from registration.identity import parse_phone

    if phone and phone.strip():
        try:
            return "p:" + parse_phone(phone)
        except ValueError:
            digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone))
            if digits:
                return "p:" + digits
    if email and email.strip():
        return "e:" + email.strip().casefold()
    clean_name = _SPACES.sub("", unicodedata.normalize("NFKC", name or ""))
    if clean_name:
        return f"n:{clean_name}|{unit_key(unit) or ''}"
    return None


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    year: int
    half: int | None  # 1: January–June, 2: July–December, None: the whole year
    starts_at: datetime  # UTC, included
    ends_at: datetime  # UTC, excluded

    @property
    def months(self) -> list[int]:
        if self.half == 1:
            return list(range(1, 7))
        if self.half == 2:
            return list(range(7, 13))
        return list(range(1, 13))

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


def _local_midnight_utc(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=ZoneInfo(ORGANIZATION_TIMEZONE)).astimezone(timezone.utc)


def period_for(year, half=None) -> Period:
    """The year (or half year) in the organization's time zone. Raises StatsError for anything else.

    >>> p = period_for(2026, 2)
    >>> p.starts_at.isoformat(), p.ends_at.isoformat()
    ('2026-06-30T16:00:00+00:00', '2026-12-31T16:00:00+00:00')
    """
    try:
        year = int(str(year).strip())
    except (TypeError, ValueError):
        raise StatsError("invalid_year", _("Choose a year between %(first)d and %(last)d.", first=FIRST_YEAR,
                                               last=LAST_YEAR), status=400, field="year") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise StatsError("invalid_year", _("Choose a year between %(first)d and %(last)d.", first=FIRST_YEAR,
                                               last=LAST_YEAR), status=400, field="year")
    if half in (None, "", "0", 0, "all"):
        half = None
    elif str(half).strip() in ("1", "2"):
        half = int(str(half).strip())
    else:
        raise StatsError("invalid_half", _("Choose the whole year, the first half or the second half."),
                         status=400, field="half")
    if half == 1:
        return Period(year, 1, _local_midnight_utc(year, 1), _local_midnight_utc(year, 7))
    if half == 2:
        return Period(year, 2, _local_midnight_utc(year, 7), _local_midnight_utc(year + 1, 1))
    return Period(year, None, _local_midnight_utc(year, 1), _local_midnight_utc(year + 1, 1))


def local_date(moment: datetime, tz: str = ORGANIZATION_TIMEZONE) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(tz)).date()


# ---------------------------------------------------------------- organizations


def root_of(organization: Organization) -> Organization:
    ancestors = organization.ancestors()
    return ancestors[-1] if ancestors else organization


def with_descendants(organization: Organization) -> list[Organization]:
    found: dict[int, Organization] = {}

    def walk(org: Organization) -> None:
        if org.id in found:
            return
        found[org.id] = org
        for child in org.children:
            walk(child)

    walk(organization)
    return list(found.values())


# ================================================================ loading people


@dataclass(frozen=True, slots=True)
class Person:
    key: str | None
    unit: str  # the sign-up's unit (a team's people share it)


@dataclass(slots=True)
class SignupRow:
    id: int
    event_id: int
    status: str
    is_team: bool
    unit: str
    group_name: str | None
    created_at: datetime
    people: list[Person] = field(default_factory=list)


def _load_signups(event_ids: list[int], *, approved_only: bool = False) -> list[SignupRow]:
    """Sign-ups of these events with their people (for a team: every person on it), in two queries."""
    from registration.models import Registration, RegistrationKind, RegistrationState, TeamMember

    if not event_ids:
        return []
    query = sa.select(Registration.id, Registration.event_id, Registration.status, Registration.kind,
                      Registration.contact_name, Registration.phone, Registration.email, Registration.unit,
                      Registration.group_name, Registration.created_at).where(Registration.event_id.in_(event_ids))
    if approved_only:
        query = query.where(Registration.status == RegistrationState.APPROVED)
    rows: dict[int, SignupRow] = {}
    teams: list[int] = []
    for (rid, event_id, status, kind, contact, phone, email, unit, group, created) in db.session.execute(
            query.order_by(Registration.id)):
        team = kind == RegistrationKind.TEAM
        row = SignupRow(rid, event_id, status.value, team, unit or "", group, created)
        if not team:
            row.people.append(Person(person_key(phone, email, contact, unit), unit or ""))
        else:
            teams.append(rid)
        rows[rid] = row
    if teams:
        members = sa.select(TeamMember.registration_id, TeamMember.name, TeamMember.phone).where(
            TeamMember.event_id.in_(event_ids)).order_by(TeamMember.registration_id, TeamMember.position,
                                                         TeamMember.id)
        for rid, name, phone in db.session.execute(members):
            row = rows.get(rid)
            if row is not None and row.is_team:
                row.people.append(Person(person_key(phone, None, name, row.unit), row.unit))
    return list(rows.values())


def _standing_check_ins(event_ids: list[int]) -> dict[int, set[int]]:
    """registration id → the places (session id, 0 for the event itself) of its standing check-ins."""
    from registration.models import CheckIn

    found: dict[int, set[int]] = defaultdict(set)
    if not event_ids:
        return found
    for rid, key in db.session.execute(sa.select(CheckIn.registration_id, CheckIn.session_key).where(
            CheckIn.event_id.in_(event_ids), CheckIn.active_key.is_not(None))):
        found[rid].add(key)
    return found


def _first_event_starts(root: Organization, before: datetime) -> dict[str, datetime]:
    """person key → the start of the earliest event of the association (root and branches) with a confirmed
    sign-up of theirs, among events starting before ``before``."""
    tree = [o.id for o in with_descendants(root)]
    events = dict(db.session.execute(sa.select(Event.id, Event.starts_at).where(
        Event.organization_id.in_(tree), Event.starts_at < before)).all())
    first: dict[str, datetime] = {}
    for row in _load_signups(list(events), approved_only=True):
        start = events[row.event_id]
        for person in row.people:
            if person.key is not None and (person.key not in first or start < first[person.key]):
                first[person.key] = start
    return first


# ================================================================ competitions


@dataclass
class CompetitionStats:
    id: int
    title: str
    event_id: int
    entrants: int
    teams: int
    individuals: int
    team_members: int  # people named on the teams (members, leader first; coaches not included)
    state: str  # "published", "frozen", "unpublished", "no_entrants"
    awards: list[tuple[str, int]]  # tier name, count (published results only), best tier first

    @property
    def counted(self) -> bool:
        return self.state == "published"

    @property
    def awarded(self) -> int:
        return sum(n for _tier, n in self.awards)


def tier_order(tier: str) -> tuple[int, str]:
    from certificates.sources import AWARD_RANKS

    for rank, name in enumerate(AWARD_RANKS):
        if tier.startswith(name):
            return rank, tier
    return len(AWARD_RANKS), tier


def competition_stats(event_ids: list[int]) -> list[CompetitionStats]:
    from competition import results
    from competition.models import Competition, Entrant

    if not event_ids:
        return []
    competitions = list(db.session.scalars(sa.select(Competition).where(Competition.event_id.in_(event_ids))
                                           .order_by(Competition.event_id, Competition.position, Competition.id)))
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for cid, is_team, members in db.session.execute(sa.select(Entrant.competition_id, Entrant.is_team,
                                                              Entrant.members).where(
            Entrant.competition_id.in_([c.id for c in competitions] or [0]))):
        count = counts[cid]
        count[0 if is_team else 1] += 1
        if is_team:
            count[2] += len(members or [])
    found = []
    for competition in competitions:
        teams, individuals, members = counts[competition.id]
        state = results.get_state(competition.id)
        awards: list[tuple[str, int]] = []
        if teams + individuals == 0:
            status = "no_entrants"
        elif state is None or not state.published:
            status = "unpublished"
        elif state.frozen_at is not None:
            status = "frozen"
        else:
            published = results.published_awards(competition)
            if published is None:
                status = "unpublished"
            else:
                status = "published"
                tally = Counter(row.award for row in published)
                awards = sorted(tally.items(), key=lambda item: tier_order(item[0]))
        found.append(CompetitionStats(competition.id, competition.title, competition.event_id, teams + individuals,
                                      teams, individuals, members, status, awards))
    return found


def sum_awards(competitions: list[CompetitionStats]) -> list[tuple[str, int]]:
    tally: Counter = Counter()
    for c in competitions:
        if c.counted:
            for tier, n in c.awards:
                tally[tier] += n
    return sorted(tally.items(), key=lambda item: tier_order(item[0]))


# ================================================================ one event


@dataclass
class SessionRate:
    session_id: int | None  # None: the event itself (check-ins not tied to a session)
    title: str
    expected: int
    checked_in: int
    started: bool = True  # False: the session is still ahead and nobody has checked in yet

    @property
    def rate(self) -> Decimal | None:
        """None ("—") before the session starts while nobody has checked in: 0% would read as "nobody came"."""
        if not self.started and not self.checked_in:
            return None
        return rate(self.checked_in, self.expected)


@dataclass
class DayCount:
    day: date
    count: int
    cumulative: int


@dataclass
class EventStats:
    event: Event
    received: int  # every sign-up made
    by_status: list[tuple[str, int]]  # status value, count (all five, in a fixed order)
    approved: int  # confirmed sign-ups
    persons: int  # 报名人次
    attended_signups: int  # confirmed sign-ups with a standing check-in
    attended_persons: int  # 签到人次
    started: bool
    no_shows: int | None  # None until the event has started
    sessions: list[SessionRate]
    over_time: list[DayCount]
    by_unit: list[tuple[str, int]]  # the TOP_UNITS largest units by confirmed sign-ups
    other_units: int  # sign-ups of the remaining units
    by_group: list[tuple[str, int]]
    distinct_people: int
    first_time: int
    returning: int
    distinct_units: int
    competitions: list[CompetitionStats]

    @property
    def check_in_rate(self) -> Decimal | None:
        """None ("—") for an event that has not started and has no check-ins yet (as in the yearly table)."""
        if not self.started and not self.attended_signups:
            return None
        return rate(self.attended_signups, self.approved)

    @property
    def awards(self) -> list[tuple[str, int]]:
        return sum_awards(self.competitions)

    @property
    def empty(self) -> bool:
        return self.received == 0


STATUS_ORDER = ("approved", "pending", "waitlisted", "rejected", "cancelled")


def _over_time(rows: list[SignupRow], tz: str) -> list[DayCount]:
    per_day = Counter(local_date(r.created_at, tz) for r in rows)
    if not per_day:
        return []
    days, total, day, last = [], 0, min(per_day), max(per_day)
    if (last - day).days > 366:  # a stray old sign-up: list the days that have some, not a year of zeros
        for d in sorted(per_day):
            total += per_day[d]
            days.append(DayCount(d, per_day[d], total))
        return days
    while day <= last:
        total += per_day.get(day, 0)
        days.append(DayCount(day, per_day.get(day, 0), total))
        day += timedelta(days=1)
    return days


def _units(rows: list[SignupRow]) -> tuple[list[tuple[str, int]], int, int]:
    """Confirmed sign-ups per distinct unit (shown by the spelling seen first), the top ones, the rest, the count."""
    names: dict[str, str] = {}
    tally: Counter = Counter()
    for row in rows:
        key = unit_key(row.unit)
        if key is None:
            continue
        names.setdefault(key, row.unit.strip())
        tally[key] += 1
    ranked = sorted(tally.items(), key=lambda item: (-item[1], names[item[0]]))
    top = [(names[k], n) for k, n in ranked[:TOP_UNITS]]
    return top, sum(n for _k, n in ranked[TOP_UNITS:]), len(tally)


def event_stats(event: Event, *, now: datetime) -> EventStats:
    rows = _load_signups([event.id])
    approved = [r for r in rows if r.status == "approved"]
    checks = _standing_check_ins([event.id])
    attended = [r for r in approved if checks.get(r.id)]
    statuses = Counter(r.status for r in rows)

    from registration.models import RegistrationSession

    chosen: dict[int, set[int]] = defaultdict(set)
    approved_ids = {r.id for r in approved}
    for rid, sid in db.session.execute(sa.select(RegistrationSession.registration_id,
                                                 RegistrationSession.session_id).where(
            RegistrationSession.registration_id.in_(approved_ids or {0}))):
        chosen[sid].add(rid)
    sessions = []
    for session in event.sessions:
        expected = chosen[session.id] if chosen else approved_ids
        came = {rid for rid in approved_ids if session.id in checks.get(rid, ())}
        # someone checked in without having chosen the session still came: count them
        sessions.append(SessionRate(session.id, session.title, len(expected | came), len(came),
                                    started=session.starts_at <= now))
    at_event = {rid for rid in approved_ids if 0 in checks.get(rid, ())}
    if at_event or not event.sessions:
        sessions.insert(0, SessionRate(None, "", len(approved_ids), len(at_event), started=event.starts_at <= now))

    keys = {p.key for r in approved for p in r.people if p.key is not None}
    first = _first_event_starts(root_of(event.organization), before=event.starts_at)
    returning = sum(1 for k in keys if k in first)  # a confirmed sign-up at an earlier event
    top, other, distinct_units = _units(approved)
    groups = Counter(r.group_name for r in approved if r.group_name)
    started = event.starts_at <= now
    return EventStats(
        event=event,
        received=len(rows),
        by_status=[(s, statuses.get(s, 0)) for s in STATUS_ORDER],
        approved=len(approved),
        persons=sum(len(r.people) for r in approved),
        attended_signups=len(attended),
        attended_persons=sum(len(r.people) for r in attended),
        started=started,
        no_shows=len(approved) - len(attended) if started else None,
        sessions=sessions,
        over_time=_over_time(rows, event.timezone),
        by_unit=top,
        other_units=other,
        by_group=sorted(groups.items(), key=lambda item: (-item[1], item[0])),
        distinct_people=len(keys),
        first_time=len(keys) - returning,
        returning=returning,
        distinct_units=distinct_units,
        competitions=competition_stats([event.id]),
    )


# ================================================================ an organization's year or half year


@dataclass
class EventRow:
    event: Event
    approved: int
    persons: int
    attended_persons: int
    attended_signups: int
    distinct_units: int
    started: bool = True  # False: the event is still ahead and nobody has checked in yet

    @property
    def check_in_rate(self) -> Decimal | None:
        """None ("—") for an event that has not started and has no check-ins yet: 0% would read as "nobody came"."""
        if not self.started and not self.attended_signups:
            return None
        return rate(self.attended_signups, self.approved)


@dataclass
class MonthRow:
    month: int
    events: int
    persons: int
    attended_persons: int


@dataclass
class PeriodStats:
    organization: Organization
    organizations: list[Organization]  # those counted: the organization and the branches included
    period: Period
    events: list[EventRow]
    by_kind: list[tuple[str, int]]  # kind value, events (kinds with none left out), in EventKind order
    approved: int
    persons: int  # 报名人次
    attended_persons: int  # 签到人次
    attended_signups: int
    distinct_people: int
    first_time: int
    distinct_units: int
    months: list[MonthRow]
    competitions: list[CompetitionStats]
    certificates: int

    @property
    def returning(self) -> int:
        return self.distinct_people - self.first_time

    @property
    def check_in_rate(self) -> Decimal | None:
        return rate(self.attended_signups, self.approved)

    @property
    def entrants(self) -> int:
        return sum(c.entrants for c in self.competitions)

    @property
    def teams(self) -> int:
        return sum(c.teams for c in self.competitions)

    @property
    def awards(self) -> list[tuple[str, int]]:
        return sum_awards(self.competitions)

    @property
    def awarded(self) -> int:
        return sum(n for _t, n in self.awards)

    @property
    def unpublished(self) -> list[CompetitionStats]:
        return [c for c in self.competitions if not c.counted and c.state != "no_entrants"]

    @property
    def empty(self) -> bool:
        return not self.events


def period_events(organization_ids: list[int], period: Period) -> list[Event]:
    return list(db.session.scalars(sa.select(Event).where(
        Event.organization_id.in_(organization_ids or [0]),
        Event.status.in_([EventState.PUBLISHED, EventState.ARCHIVED]),
        Event.starts_at >= period.starts_at, Event.starts_at < period.ends_at,
    ).order_by(Event.starts_at, Event.id)))


def period_stats(organization: Organization, organizations: list[Organization], period: Period, *,
                 now: datetime | None = None) -> PeriodStats:
    """Figures of ``organizations`` (the organization and whichever of its branches are included) in ``period``."""
    from core.types import utcnow

    now = now or utcnow()
    from certificates.models import Certificate, CertificateStatus

    events = period_events([o.id for o in organizations], period)
    ids = [e.id for e in events]
    rows = _load_signups(ids, approved_only=True)
    checks = _standing_check_ins(ids)
    per_event: dict[int, list[SignupRow]] = defaultdict(list)
    for row in rows:
        per_event[row.event_id].append(row)
    event_rows = []
    for event in events:
        mine = per_event[event.id]
        came = [r for r in mine if checks.get(r.id)]
        event_rows.append(EventRow(event, len(mine), sum(len(r.people) for r in mine),
                                   sum(len(r.people) for r in came), len(came), _units(mine)[2],
                                   started=event.starts_at <= now))
    keys = {p.key for r in rows for p in r.people if p.key is not None}
    first = _first_event_starts(root_of(organization), before=period.ends_at)
    first_time = sum(1 for k in keys if first.get(k, period.starts_at) >= period.starts_at)
    kinds = Counter(e.kind.value for e in events)
    months = []
    for month in period.months:
        inside = [r for r in event_rows if local_date(r.event.starts_at).month == month]
        months.append(MonthRow(month, len(inside), sum(r.persons for r in inside),
                               sum(r.attended_persons for r in inside)))
    certificates = db.session.scalar(sa.select(sa.func.count(Certificate.id)).where(
        Certificate.event_id.in_(ids or [0]), Certificate.status == CertificateStatus.VALID)) or 0
    return PeriodStats(
        organization=organization,
        organizations=organizations,
        period=period,
        events=event_rows,
        by_kind=[(k, kinds[k]) for k in KIND_ORDER if kinds.get(k)],
        approved=len(rows),
        persons=sum(r.persons for r in event_rows),
        attended_persons=sum(r.attended_persons for r in event_rows),
        attended_signups=sum(r.attended_signups for r in event_rows),
        distinct_people=len(keys),
        first_time=first_time,
        distinct_units=_units(rows)[2],
        months=months,
        competitions=competition_stats(ids),
        certificates=certificates,
    )
