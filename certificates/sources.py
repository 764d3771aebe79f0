"""Who gets a certificate: the holders of a batch, from the event's data.

- participation / training: sign-ups that actually checked in (a standing CheckIn row, at the event or any of its
  sessions); a team sign-up gives one certificate per person of the team (leader, members, coaches);
- appointment letters (聘书): users with a judge or chief-judge role in the event's organization;
- award certificates: the award winners of a competition, through ``award_holders`` (the seam for issue 8);
- any kind: names typed in (one per line: name, unit, award or role).

A ``Holder`` carries what will be printed and a ``key`` that names the person inside the event and kind, so that
issuing again finds the certificate issued before instead of making a second one.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from core.errors import DomainError
from extensions import db

MAX_HOLDERS = 3000  # per batch
MAX_NAME = 100
MAX_UNIT = 200
MAX_AWARD = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class HolderError(DomainError):
    status = 422


class ResultsNotPublished(HolderError):
    def __init__(self, competition_title: str):
        super().__init__(
            "results_not_published",
            _("The results of %(competition)s are not published yet: award certificates can be issued once they "
              "are. Nothing was issued.", competition=competition_title),
            status=409,
        )


@dataclass(frozen=True)
class Holder:
    key: str
    name: str
    unit: str = ""
    members: str = ""
    award: str = ""
    competition: str = ""
    group: str = ""
    registration_id: int | None = None
    entrant_id: int | None = None
    user_id: int | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}

    @classmethod
    def from_dict(cls, data: dict) -> Holder:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def clean(text: str | None, limit: int) -> str:
    """One line of printable text: control characters removed, spaces collapsed, NFC, cut to ``limit``."""
    text = unicodedata.normalize("NFC", _CONTROL.sub("", str(text or "")).replace("\n", " "))
    return " ".join(text.split())[:limit]


# ---------------------------------------------------------------- participation and training


def checked_in_holders(event, registration_ids: list[int] | None = None) -> list[Holder]:
    """Everyone who checked in (a standing check-in at the event or a session), in sign-up order; optionally
    only the sign-ups in ``registration_ids`` (which must all have checked in)."""
    from registration.models import CheckIn, Registration, RegistrationKind

    standing = sa.select(CheckIn.registration_id).where(
        CheckIn.event_id == event.id, CheckIn.active_key.is_not(None)
    )
    query = (
        sa.select(Registration).where(Registration.event_id == event.id, Registration.id.in_(standing))
        .order_by(Registration.id)
    )
    if registration_ids is not None:
        wanted = sorted(set(registration_ids))
        if not wanted:
            raise HolderError("nobody_chosen", _("Tick at least one person."), field="registration_ids")
        query = query.where(Registration.id.in_(wanted))
    registrations = list(db.session.scalars(query))
    if registration_ids is not None and len(registrations) != len(set(registration_ids)):
        raise HolderError(
            "not_checked_in",
            _("Participation certificates are only for people who checked in; some of the chosen sign-ups did "
              "not. Nothing was issued."),
            field="registration_ids",
        )
    holders: list[Holder] = []
    for registration in registrations:
        group = registration.group_name or ""
        if registration.kind == RegistrationKind.TEAM:
            team = clean(registration.name, MAX_UNIT)
            for member in sorted(registration.members, key=lambda m: (m.position, m.id)):
                holders.append(Holder(key=f"member:{member.id}", name=clean(member.name, MAX_NAME),
                                      unit=clean(registration.unit, MAX_UNIT), members=team, group=group,
                                      registration_id=registration.id))
        else:
            holders.append(Holder(key=f"reg:{registration.id}", name=clean(registration.contact_name, MAX_NAME),
                                  unit=clean(registration.unit, MAX_UNIT), group=group,
                                  registration_id=registration.id))
    return holders


# ---------------------------------------------------------------- appointment letters


def judge_holders(event, role_text: str = "") -> list[Holder]:
    """Users with a judge or chief-judge role in the event's organization (for the whole organization or for
    this event), each once; ``role_text`` is printed as their role, else 评委 / 裁判长."""
    from accounts.models import Membership, MembershipRole, User

    rows = db.session.execute(
        sa.select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organization_id == event.organization_id,
            Membership.role.in_([MembershipRole.JUDGE, MembershipRole.CHIEF_JUDGE]),
            sa.or_(Membership.event_id.is_(None), Membership.event_id == event.id),
            User.active.is_(True),
        )
        .order_by(User.id)
    ).all()
    roles: dict[int, tuple[User, set]] = {}
    for user, role in rows:
        roles.setdefault(user.id, (user, set()))[1].add(role)
    holders = []
    for user, held in roles.values():
        default = "裁判长" if MembershipRole.CHIEF_JUDGE in held else "评委"
        holders.append(Holder(key=f"user:{user.id}", name=clean(user.name, MAX_NAME),
                              award=clean(role_text, MAX_AWARD) or default, user_id=user.id))
    return holders


# ---------------------------------------------------------------- typed names

_SEPARATORS = re.compile(r"\t|,|，|;|；")


def typed_holders(text: str, *, max_lines: int = MAX_HOLDERS) -> list[Holder]:
    """One holder per line: ``name, unit, award or role`` (separated by commas, tabs or semicolons; unit and
    award may be left out). Blank lines are skipped; a line without a name is an error, with its number."""
    holders: list[Holder] = []
    seen: set[str] = set()
    lines = (text or "").splitlines()
    if len(lines) > max_lines:
        raise HolderError("too_many", _("At most %(n)d names at once.", n=max_lines), field="names")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = [clean(p, MAX_UNIT) for p in _SEPARATORS.split(line, maxsplit=2)]
        name = parts[0][:MAX_NAME]
        if not name:
            raise HolderError("empty_name", _("Line %(n)d has no name. Nothing was issued.", n=number),
                              field="names")
        unit = parts[1] if len(parts) > 1 else ""
        award = parts[2][:MAX_AWARD] if len(parts) > 2 else ""
        digest = hashlib.sha256(f"{name}\x1f{unit}".encode()).hexdigest()[:24]
        key = f"name:{digest}"
        if key in seen:
            continue  # the same person typed twice: one certificate
        seen.add(key)
        holders.append(Holder(key=key, name=name, unit=unit, award=award))
    return holders


# ---------------------------------------------------------------- award winners (issue 8 plugs in here)


@dataclass(frozen=True)
class AwardedEntrant:
    """One award of published results: the entrant (competition.models.Entrant) and the tier's name."""

    entrant: object
    award: str


# The function that returns a competition's published awards, or None while its results are not published.
# Issue 8 (rankings and awards) registers it with ``set_results_provider``; until then no competition has
# published results, and award batches are refused with a clear message.
ResultsProvider = Callable[[object], "list[AwardedEntrant] | None"]
_results_provider: ResultsProvider | None = None


def set_results_provider(provider: ResultsProvider | None) -> ResultsProvider | None:
    """Install the provider of published awards; returns the previous one (tests put it back)."""
    global _results_provider
    previous, _results_provider = _results_provider, provider
    return previous


def _load_results_module() -> None:
    """Issue 8's results module installs its provider when imported; import it if it exists."""
    import importlib.util

    if importlib.util.find_spec("competition.results") is not None:
        importlib.import_module("competition.results")


def award_holders(competition) -> list[Holder]:
    """The award winners of ``competition``'s published results, in the results' order.

    Raises ResultsNotPublished while there are none (no provider yet, or the provider says not published)."""
    if _results_provider is None:
        _load_results_module()
    awards = _results_provider(competition) if _results_provider is not None else None
    if awards is None:
        raise ResultsNotPublished(competition.title)
    holders = []
    for row in awards:
        entrant = row.entrant
        members = "、".join(clean(m, MAX_NAME) for m in (entrant.members or []) if clean(m, MAX_NAME)) \
            if entrant.is_team else ""
        holders.append(Holder(
            key=f"entrant:{entrant.id}", name=clean(entrant.name, MAX_NAME), unit=clean(entrant.unit, MAX_UNIT),
            members=members[:300], award=clean(row.award, MAX_AWARD), competition=clean(competition.title, 200),
            group=clean(entrant.group.name, 60) if entrant.group is not None else "",
            registration_id=entrant.registration_id, entrant_id=entrant.id,
        ))
    return holders


# ---------------------------------------------------------------- order

ORDERS = ("source", "group", "award", "unit", "name")
AWARD_RANKS = ("特等奖", "金奖", "一等奖", "银奖", "二等奖", "铜奖", "三等奖", "优秀奖", "鼓励奖")


def _award_rank(award: str) -> tuple[int, str]:
    for rank, name in enumerate(AWARD_RANKS):
        if award.startswith(name):
            return rank, award
    return len(AWARD_RANKS), award


def sort_holders(holders: list[Holder], order: str) -> list[Holder]:
    """The order of the merged PDF: as the source gave them, or by group (then award, unit), by award (then
    group, unit), by unit (then name) or by name. Stable: ties keep the source's order.

    >>> hs = [Holder("a", "乙", unit="B校", award="二等奖"), Holder("b", "甲", unit="A校", award="一等奖")]
    >>> [h.key for h in sort_holders(hs, "award")]
    ['b', 'a']
    """
    if order == "group":
        key = lambda h: (h.group, _award_rank(h.award), h.unit)  # noqa: E731
    elif order == "award":
        key = lambda h: (_award_rank(h.award), h.group, h.unit)  # noqa: E731
    elif order == "unit":
        key = lambda h: (h.unit, h.name)  # noqa: E731
    elif order == "name":
        key = lambda h: h.name  # noqa: E731
    elif order == "source":
        return list(holders)
    else:
        raise ValueError(f"unknown order {order!r}")
    return sorted(holders, key=key)
