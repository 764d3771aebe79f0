"""Judging use cases: judges (accounts, invitations, 回避), panels and assignments, scores.

Like every service in Saihui these functions flush but never commit, take the actor and the time as parameters and
raise ``JudgingError`` (a DomainError: stable ``code``, translated ``message``, HTTP ``status``). The caller
commits once, or rolls the whole unit of work back.

Scores
------
``save_draft`` and ``submit_entrant`` are what the tablet (through ``PUT /api/v1/scores`` and the submit route)
calls. Checks, in this order (the first that applies answers):

==================  ======  ========================================================================================
code                status  when
==================  ======  ========================================================================================
nonce_reused        409     the nonce was used before, by another judge or for another request
(not found)         404     the round does not exist, or the caller has no role in its event's organization
not_a_judge         403     the caller is not a judge of this competition (e.g. a judge of another competition)
locked              409     the round is locked: its scores are final
not_assigned        403     the entrant is not assigned to this judge in this round (or does not exist)
conflict            403     the judge must not score this entrant (回避: own unit, own coached entrant)
unknown_criterion   422     the criterion is not one of this round's rubric
not_your_criterion  403     the criterion is not in this judge's share (e.g. the measuring judge's)
absent              409     the round requires roll call (检录) and the entrant was not marked present
<value codes>       422     ``judging.values``: blank (on submit), not_a_number, decimal_comma, negative,
                            above_maximum, too_many_decimals, off_step, not_allowed, not_a_level
not_ready           409     the first score would start scoring, but the round is not ready (rubric, draw)
submitted           409     the score (or the entrant, on submit) is submitted: it no longer changes
incomplete          422     submit: some criteria of the judge's share are still blank (``details.missing``)
==================  ======  ========================================================================================

**Roll call decision.** Whether scoring needs roll call is a round setting (``RoundJudging.requires_roll_call``),
on by default: at a venue only entrants marked present are scored; a round judged on submitted works (expert
review of proposals) turns it off.

**Drafts are last-write-wins**: one conditional upsert per value (``INSERT … ON CONFLICT DO UPDATE … WHERE
state = 'draft'``); the same statement never touches a submitted score, so a second tablet's late draft gets
``409 submitted`` and changes nothing. **Submitting** is one conditional UPDATE of the judge's drafts of that
entrant that have a value, followed by a count inside the same transaction: if a criterion of the share is not
submitted afterwards (blank, or blanked concurrently) the whole unit of work is refused (``incomplete``).
The first score of a round in set-up starts scoring (``competition.services.start_scoring``: locks the rubric,
the draw can no longer be redone). On PostgreSQL each score write holds a share lock on the round's row, so a
concurrent "lock the round" waits for it (and the write after the lock sees ``locked``).

**Idempotency**: a request carries a client ``nonce``; the answer of a request that changed something is stored
under it (``ScoreRequest``) in the same transaction, and the same nonce again returns that answer, changes nothing.
A refused request changes nothing and stores nothing: sent again, it is checked again.

**Anonymity**: nothing a judge receives from here names an entrant; entrants are shown by their draw code
(``DrawCode.code`` of the stage the round's settings name). Conflicts are computed from the sealed identities on
the server (``judging.assignment``) and never sent.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from accounts.models import Membership, MembershipRole, User
from accounts.permissions import JUDGING_ROLES, can_see_event_admin, roles_for_event
from competition.models import (
    Competition,
    Criterion,
    CriterionKind,
    DrawCode,
    Entrant,
    Group,
    Module,
    RollCall,
    Round,
    RoundState,
    Rubric,
)
from core.errors import DomainError
from core.models import record_audit
from events.models import Event
from extensions import db
from judging import assignment as planner
from judging.models import (
    Assignment,
    JudgeCoachedEntrant,
    JudgeInvitation,
    JudgeProfile,
    JudgeRole,
    Panel,
    PanelJudge,
    PanelJudgeCriterion,
    RoundJudging,
    Score,
    ScoreChange,
    ScoreChangeKind,
    ScoreRequest,
    ScoreSource,
    ScoreState,
    VALUE_PLACES,
)
from judging.values import CriterionSpec, ValueProblem, decimal_places, validate_optional_value, validate_value

NONCE_MAX = 64
NOTE_MAX = 1000
MAX_UNITS = 20
INVITATION_DAYS = 7
INVITATION_SALT = "saihui.judge-invitation"


class JudgingError(DomainError):
    """A refused judging request. ``details`` are added to the API's JSON error (e.g. the missing criteria)."""

    def __init__(self, code: str, message: str, *, status: int, field: str | None = None,
                 details: dict | None = None):
        super().__init__(code, message, status=status, field=field)
        self.details = details or {}


def error_body(error: DomainError) -> dict:
    body = {"code": error.code, "message": error.message}
    if getattr(error, "details", None):
        body.update(error.details)
    if error.field:
        body["field"] = error.field
    return {"error": body}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _audit(actor, competition: Competition, action: str, now: datetime, obj, **details) -> None:
    record_audit(actor=actor, organization_id=competition.event.organization_id, action=action, obj=obj, now=now,
                 competition_id=competition.id, **details)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _insert(model):
    return (postgresql.insert if _dialect() == "postgresql" else sqlite.insert)(model)


# ---------------------------------------------------------------- criteria and values


def value_places(criterion: Criterion, competition: Competition) -> int:
    """Decimal places a judge's value may have: the competition's precision, or more when the criterion's step or
    maximum needs them (a step of 0.25 with a precision of 1 place), at most four."""
    places = max(competition.places, decimal_places(Decimal(criterion.step)), decimal_places(Decimal(criterion.maximum)))
    return min(places, VALUE_PLACES)


def criterion_spec(criterion: Criterion, competition: Competition) -> CriterionSpec:
    """What the criterion accepts (``judging.values``): full mark or zero, the 0–3 ladder, or any value on the step."""
    places = value_places(criterion, competition)
    maximum = Decimal(criterion.maximum)
    if getattr(criterion, "full_or_zero", False) and criterion.kind == CriterionKind.MEASUREMENT:
        return CriterionSpec.full_or_zero(maximum, places=places)
    if criterion.ladder:
        return CriterionSpec.on_ladder(maximum, places=places)
    return CriterionSpec(maximum=maximum, step=Decimal(criterion.step), kind=criterion.kind.value, places=places)


def plain(value: Decimal | None) -> str | None:
    """A Decimal as people write it: 7.50 -> "7.5", 10.0000 -> "10"."""
    if value is None:
        return None
    text = format(Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def value_text(value: Decimal | None, criterion: Criterion, competition: Competition) -> str | None:
    """A stored value as the API shows it: the level for a ladder criterion ("2"), else with the value's places."""
    if value is None:
        return None
    if criterion.ladder:
        return str(int(value))
    places = value_places(criterion, competition)
    return format(Decimal(value).quantize(Decimal(1).scaleb(-places)), "f")


def value_problem_error(problem: ValueProblem, criterion: Criterion | None = None) -> JudgingError:
    """A refused value as a JudgingError with a translated message (the code stays ``judging.values``')."""
    params = problem.params
    messages = {
        "blank": lambda: _("Enter a score; a blank is not zero."),
        "not_a_number": lambda: _("Enter a number."),
        "decimal_comma": lambda: (_("Write decimals with a point, e.g. %(example)s.", example=params["suggestion"])
                                  if params.get("suggestion") else
                                  _("Write numbers without commas, with a point for decimals.")),
        "negative": lambda: _("A score cannot be below zero."),
        "above_maximum": lambda: _("The maximum is %(maximum)s.", maximum=params.get("maximum", "")),
        "too_many_decimals": lambda: _("Use at most %(places)d decimal places.", places=params.get("places", 0)),
        "off_step": lambda: _("Scores go in steps of %(step)s: use %(lower)s or %(upper)s.",
                              step=params.get("step", ""), lower=params.get("lower", ""), upper=params.get("upper", "")),
        "not_allowed": lambda: _("Only 0 or the full mark (%(maximum)s) can be given.",
                                 maximum=plain(criterion.maximum) if criterion is not None else ""),
        "not_a_level": lambda: _("Choose a level from 0 to 3."),
    }
    if problem.code not in messages:
        return JudgingError("criterion_invalid", _("This criterion is not set up correctly; please tell the organizer."),
                            status=409)
    return JudgingError(problem.code, messages[problem.code](), status=422, field="value")


# ---------------------------------------------------------------- round settings


def round_settings(round_: Round) -> RoundJudging:
    """The round's judging settings (the defaults when none were saved: roll call required, station numbers)."""
    settings = db.session.get(RoundJudging, round_.id)
    return settings or RoundJudging(round_id=round_.id, requires_roll_call=True, code_stage=1)


def update_round_settings(round_: Round, *, requires_roll_call: bool, code_stage: int, actor,
                          now: datetime) -> RoundJudging:
    if round_.state == RoundState.LOCKED:
        raise JudgingError("locked", _("This round's scores are final: its settings no longer change."), status=409)
    if code_stage not in (1, 2):
        raise JudgingError("code_stage", _("Choose which code judges see."), status=422, field="code_stage")
    if code_stage == 2:
        missing = db.session.scalar(sa.select(sa.func.count(Entrant.id)).where(
            Entrant.competition_id == round_.competition_id,
            ~sa.exists().where(DrawCode.entrant_id == Entrant.id, DrawCode.stage == 2)))
        if missing:
            raise JudgingError("no_result_codes", _("Do the second draw (二次加密) first: %(n)d entrants have no result code.",
                                                    n=missing), status=409, field="code_stage")
    statement = _insert(RoundJudging).values(round_id=round_.id, requires_roll_call=bool(requires_roll_call),
                                             code_stage=code_stage)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["round_id"],
        set_={"requires_roll_call": statement.excluded.requires_roll_call,
              "code_stage": statement.excluded.code_stage}))
    _audit(actor, round_.competition, "judging.round_settings", now, obj=round_,
           requires_roll_call=bool(requires_roll_call), code_stage=code_stage)
    db.session.flush()
    return db.session.get(RoundJudging, round_.id, populate_existing=True)


def rubric_of(round_: Round) -> Rubric | None:
    return db.session.scalar(sa.select(Rubric).where(Rubric.round_id == round_.id))


def round_criteria(round_: Round) -> list[Criterion]:
    """The criteria of the round's rubric, in the rubric's order (module, then criterion)."""
    return list(db.session.scalars(
        sa.select(Criterion).join(Module, Module.id == Criterion.module_id).join(Rubric, Rubric.id == Criterion.rubric_id)
        .where(Rubric.round_id == round_.id).order_by(Module.position, Module.id, Criterion.position, Criterion.id)))


# ---------------------------------------------------------------- judges


@dataclass
class JudgeData:
    name: str
    login: str
    units: list[str] = field(default_factory=list)
    role: JudgeRole = JudgeRole.JUDGE
    limit_to_event: bool = True
    password: str | None = None  # None: the judge sets it through an invitation link


@dataclass
class AddedJudge:
    profile: JudgeProfile
    created_account: bool
    invitation_token: str | None = None


def split_units(text: str | None) -> list[str]:
    """'厦门大学、集美大学; 厦门软件园' -> three units (、 , ， ; ； or new lines)."""
    return [part for part in re.split(r"\s*[、,，;；\n]\s*", (text or "").strip()) if part]


def clean_units(units: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(u.strip() for u in units if u and u.strip()))
    if len(cleaned) > MAX_UNITS or any(len(u) > 200 for u in cleaned):
        raise JudgingError("too_many_units", _("At most %(n)d units of at most 200 characters.", n=MAX_UNITS),
                           status=422, field="units")
    return cleaned


def parse_login(text: str | None) -> str:
    """A judge's account name: a mobile phone number or an e-mail address, normalized."""
    from registration.identity import parse_email, parse_phone

    raw = (text or "").strip()
    if not raw:
        raise JudgingError("login_required", _("Enter the judge's mobile phone number or e-mail address."),
                           status=422, field="login")
    try:
        return parse_email(raw).lower() if "@" in raw else parse_phone(raw)
    except ValueError:
        raise JudgingError("invalid_login", _("Enter a valid mobile phone number or e-mail address."), status=422,
                           field="login") from None


def judge_profile(competition: Competition, user_id: int) -> JudgeProfile | None:
    return db.session.scalar(sa.select(JudgeProfile).where(JudgeProfile.competition_id == competition.id,
                                                           JudgeProfile.user_id == user_id))


def list_judges(competition: Competition) -> list[JudgeProfile]:
    return list(db.session.scalars(
        sa.select(JudgeProfile).join(User, User.id == JudgeProfile.user_id)
        .where(JudgeProfile.competition_id == competition.id).order_by(JudgeProfile.role, User.name, User.id)))


def _membership_role(role: JudgeRole) -> MembershipRole:
    """The event membership of a judge role: the chief judge's own; every other (judge, encryption judge,
    supervisor, arbitrator) a judge's, which opens the judging pages and nothing of the organizers'."""
    return MembershipRole.CHIEF_JUDGE if role == JudgeRole.CHIEF else MembershipRole.JUDGE


def add_judge(competition: Competition, data: JudgeData, *, actor, now: datetime) -> AddedJudge:
    """A judge for the competition: a new account (with the password given, or an invitation link to set it), or
    an existing account found by its login (which keeps its own password). Adds the judge membership (limited to
    the event unless told otherwise) and the profile with the declared units."""
    from accounts.services import AccountError, add_membership, create_user, find_user_by_login

    name = (data.name or "").strip()
    if not name:
        raise JudgingError("name_required", _("Enter the judge's name."), status=422, field="name")
    if len(name) > 80:
        raise JudgingError("too_long", _("Too long: at most %(n)d characters.", n=80), status=422, field="name")
    login = parse_login(data.login)
    units = clean_units(data.units)
    role = JudgeRole(data.role)
    event = competition.event
    user = find_user_by_login(login)
    created = user is None
    if created:
        password = data.password or secrets.token_urlsafe(24)
        try:
            user = create_user(login=login, name=name, password=password)
        except AccountError as error:
            raise JudgingError(error.code, error.message, status=error.status, field="password") from None
    elif judge_profile(competition, user.id) is not None:
        raise JudgingError("duplicate_judge", _("%(name)s is already a judge of this competition.", name=user.name),
                           status=409, field="login")
    add_membership(user, event.organization, _membership_role(role), event=event if data.limit_to_event else None)
    profile = JudgeProfile(competition_id=competition.id, user_id=user.id, role=role, units=units, created_at=now,
                           created_by_id=getattr(actor, "id", None))
    db.session.add(profile)
    db.session.flush()
    token = None
    if created and not data.password:
        token = _new_invitation(user, event, actor=actor, now=now)
    _audit(actor, competition, "judging.judge_add", now, obj=profile, user_id=user.id, role=role.value,
           created_account=created, invitation=bool(token))
    return AddedJudge(profile=profile, created_account=created, invitation_token=token)


def entrant_identity(entrant: Entrant) -> planner.EntrantIdentity:
    return planner.EntrantIdentity(key=entrant.id, unit=entrant.unit or "", coaches=tuple(entrant.coaches or ()))


def judge_identity(profile: JudgeProfile) -> planner.JudgeIdentity:
    return planner.JudgeIdentity(key=profile.id, name=profile.user.name, units=tuple(profile.units or ()),
                                 coached=frozenset(profile.coached_entrant_ids))


def update_judge(profile: JudgeProfile, *, name: str | None = None, units: list[str], coached_entrant_ids: list[int],
                 role: JudgeRole, actor, now: datetime) -> int:
    """Change a judge's declared units, coached entrants and role. Assignments that become conflicts are removed
    (with their draft scores); refused when such an entrant already has a submitted score from this judge (the
    chief judge decides then). Returns how many assignments were removed."""
    competition = db.session.get(Competition, profile.competition_id)
    units = clean_units(units)
    wanted = set(coached_entrant_ids)
    if wanted:
        known = set(db.session.scalars(sa.select(Entrant.id).where(Entrant.competition_id == competition.id,
                                                                   Entrant.id.in_(wanted))))
        if known != wanted:
            raise JudgingError("unknown_entrant", _("Choose entrants of this competition."), status=422,
                               field="coached")
    profile.units = units
    profile.role = JudgeRole(role)
    for link in list(profile.coached):
        if link.entrant_id not in wanted:
            profile.coached.remove(link)
    for entrant_id in sorted(wanted - profile.coached_entrant_ids):
        profile.coached.append(JudgeCoachedEntrant(entrant_id=entrant_id))
    if name is not None and name.strip() and name.strip() != profile.user.name:
        profile.user.name = name.strip()[:80]
    db.session.flush()
    removed = _drop_conflicted_assignments(profile)
    _audit(actor, competition, "judging.judge_update", now, obj=profile, units=units, coached=sorted(wanted) or None,
           role=profile.role.value, removed_assignments=removed or None)
    return removed


def declare_units(profile: JudgeProfile, units: list[str], *, actor, now: datetime) -> int:
    """A judge declares more units (回避) themselves. Declarations only add: removing a unit is the organizer's
    (a judge must not be able to undo a conflict to score their own people). Returns the assignments removed."""
    declared = clean_units(list(profile.units or []) + list(units))
    if declared == list(profile.units or []):
        return 0
    return update_judge(profile, units=declared, coached_entrant_ids=sorted(profile.coached_entrant_ids),
                        role=profile.role, actor=actor, now=now)


def _drop_conflicted_assignments(profile: JudgeProfile) -> int:
    rows = db.session.execute(
        sa.select(Assignment, Entrant).join(Entrant, Entrant.id == Assignment.entrant_id)
        .join(PanelJudge, PanelJudge.id == Assignment.panel_judge_id)
        .where(PanelJudge.profile_id == profile.id)).all()
    identity = judge_identity(profile)
    conflicted = [a for a, entrant in rows if planner.conflict_reasons(identity, entrant_identity(entrant))]
    for item in conflicted:
        submitted = db.session.scalar(sa.select(sa.func.count(Score.id)).where(
            Score.round_id == item.round_id, Score.judge_id == item.judge_id, Score.entrant_id == item.entrant_id,
            Score.state == ScoreState.SUBMITTED))
        if submitted:
            raise JudgingError("conflict_scored", _("The judge has already submitted scores for an entrant this change "
                                                    "excludes; the chief judge must review those scores first."),
                               status=409)
        db.session.execute(sa.delete(Score).where(Score.round_id == item.round_id, Score.judge_id == item.judge_id,
                                                  Score.entrant_id == item.entrant_id,
                                                  Score.state == ScoreState.DRAFT))
        db.session.delete(item)
    db.session.flush()
    return len(conflicted)


def judge_has_scores(profile: JudgeProfile) -> bool:
    return bool(db.session.scalar(sa.select(sa.func.count(Score.id)).join(Round, Round.id == Score.round_id).where(
        Round.competition_id == profile.competition_id, Score.judge_id == profile.user_id)))


def remove_judge(profile: JudgeProfile, *, actor, now: datetime) -> None:
    """Take a judge off the competition (their panels and assignments go too). Refused once they have scores.
    Their account and membership stay: they may judge other competitions."""
    competition = db.session.get(Competition, profile.competition_id)
    if judge_has_scores(profile):
        raise JudgingError("has_scores", _("This judge has scores in this competition and can no longer be removed."),
                           status=409)
    _audit(actor, competition, "judging.judge_remove", now, obj=profile, user_id=profile.user_id)
    db.session.execute(sa.delete(Assignment).where(Assignment.panel_judge_id.in_(
        sa.select(PanelJudge.id).where(PanelJudge.profile_id == profile.id))))
    db.session.delete(profile)
    db.session.flush()


# ---------------------------------------------------------------- invitations


def _serializer():
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.secret_key, salt=INVITATION_SALT)


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def can_invite(user: User) -> bool:
    """Only accounts made here for a judge, whose password nobody has set yet, get invitation links: an existing
    account keeps its own password (an organizer must never be able to take over someone's account)."""
    if user.password_changed_at is not None:
        return False
    made_here = db.session.scalar(sa.select(sa.func.count(JudgeInvitation.id)).where(JudgeInvitation.user_id == user.id))
    accepted = db.session.scalar(sa.select(sa.func.count(JudgeInvitation.id)).where(
        JudgeInvitation.user_id == user.id, JudgeInvitation.used_at.is_not(None)))
    return bool(made_here) and not accepted


def _new_invitation(user: User, event: Event, *, actor, now: datetime) -> str:
    db.session.execute(sa.update(JudgeInvitation).where(
        JudgeInvitation.user_id == user.id, JudgeInvitation.used_at.is_(None), JudgeInvitation.revoked_at.is_(None))
        .values(revoked_at=now))
    secret = secrets.token_urlsafe(18)
    invitation = JudgeInvitation(user_id=user.id, event_id=event.id, secret_hash=_hash_secret(secret), created_at=now,
                                 expires_at=now + timedelta(days=INVITATION_DAYS),
                                 created_by_id=getattr(actor, "id", None))
    db.session.add(invitation)
    db.session.flush()
    return _serializer().dumps([invitation.id, secret])


def invite_judge(profile: JudgeProfile, *, actor, now: datetime) -> str:
    """A new invitation link for a judge whose account was made here and never used (earlier links stop working)."""
    competition = db.session.get(Competition, profile.competition_id)
    if not can_invite(profile.user):
        raise JudgingError("not_invitable", _("This judge already has a password: they log in with it (they can "
                                              "change it on their profile)."), status=409)
    token = _new_invitation(profile.user, competition.event, actor=actor, now=now)
    _audit(actor, competition, "judging.judge_invite", now, obj=profile, user_id=profile.user_id)
    return token


def find_invitation(token: str, *, now: datetime) -> JudgeInvitation:
    """The invitation behind a link: 404 when forged or unknown, 410 when expired, used or replaced."""
    from itsdangerous import BadSignature

    try:
        invitation_id, secret = _serializer().loads(token or "")
    except (BadSignature, ValueError, TypeError):
        raise JudgingError("invalid_invitation", _("This invitation link is not valid."), status=404) from None
    if not isinstance(invitation_id, int) or not isinstance(secret, str):
        raise JudgingError("invalid_invitation", _("This invitation link is not valid."), status=404)
    invitation = db.session.get(JudgeInvitation, invitation_id)
    if invitation is None or not hmac.compare_digest(invitation.secret_hash, _hash_secret(secret)):
        raise JudgingError("invalid_invitation", _("This invitation link is not valid."), status=404)
    if invitation.used_at is not None:
        raise JudgingError("invitation_used", _("This invitation link has been used already. Log in with your "
                                                "password."), status=410)
    if invitation.revoked_at is not None or invitation.expires_at <= now:
        raise JudgingError("invitation_expired", _("This invitation link has expired. Ask the organizer for a new "
                                                   "one."), status=410)
    return invitation


def accept_invitation(token: str, password: str, *, now: datetime) -> User:
    """Set the judge's password through the link; the link then stops working (one conditional UPDATE)."""
    from accounts.services import AccountError, validate_new_password

    invitation = find_invitation(token, now=now)
    try:
        validate_new_password(password)
    except AccountError as error:
        raise JudgingError(error.code, error.message, status=error.status, field="password") from None
    result = db.session.execute(sa.update(JudgeInvitation).where(
        JudgeInvitation.id == invitation.id, JudgeInvitation.used_at.is_(None), JudgeInvitation.revoked_at.is_(None))
        .values(used_at=now))
    if result.rowcount != 1:
        raise JudgingError("invitation_used", _("This invitation link has been used already. Log in with your "
                                                "password."), status=410)
    user = db.session.get(User, invitation.user_id)
    user.set_password(password)
    user.password_changed_at = now
    user.session_version += 1
    record_audit(actor=user, organization_id=db.session.get(Event, invitation.event_id).organization_id,
                 action="judging.invitation_accept", obj=invitation, now=now)
    db.session.flush()
    return user


# ---------------------------------------------------------------- panels


@dataclass
class PanelData:
    name: str
    round_id: int
    group_id: int | None = None
    judges_per_entrant: int | None = None


def _apply_panel(panel: Panel, competition: Competition, data: PanelData) -> None:
    name = (data.name or "").strip()
    if not name:
        raise JudgingError("name_required", _("Give the panel a name, e.g. 第一评委组."), status=422, field="name")
    if len(name) > 60:
        raise JudgingError("too_long", _("Too long: at most %(n)d characters.", n=60), status=422, field="name")
    round_ = db.session.get(Round, data.round_id) if data.round_id else None
    if round_ is None or round_.competition_id != competition.id:
        raise JudgingError("unknown_round", _("Choose one of this competition's rounds."), status=422, field="round_id")
    group = db.session.get(Group, data.group_id) if data.group_id else None
    if data.group_id and (group is None or group.competition_id != competition.id):
        raise JudgingError("unknown_group", _("Choose one of this competition's groups."), status=422, field="group_id")
    per = data.judges_per_entrant
    if per is not None and (isinstance(per, bool) or not 1 <= int(per) <= 99):
        raise JudgingError("judges_per_entrant", _("Each entrant needs 1 to 99 judges (or leave it empty: every judge)."),
                           status=422, field="judges_per_entrant")
    if panel.id is not None and (panel.round_id != round_.id or panel.group_id != (group.id if group else None)):
        has_assignments = db.session.scalar(sa.select(sa.func.count(Assignment.id)).where(Assignment.panel_id == panel.id))
        if has_assignments:
            raise JudgingError("panel_in_use", _("Entrants are assigned on this panel: its round and group no longer "
                                                 "change."), status=409, field="round_id")
    duplicate = sa.select(Panel.id).where(Panel.round_id == round_.id, Panel.name == name)
    if panel.id is not None:
        duplicate = duplicate.where(Panel.id != panel.id)
    if db.session.scalar(duplicate) is not None:
        raise JudgingError("duplicate_panel", _("This round already has a panel with this name."), status=409,
                           field="name")
    panel.name, panel.round_id = name, round_.id
    panel.group_id = group.id if group else None
    panel.judges_per_entrant = int(per) if per is not None else None


def create_panel(competition: Competition, data: PanelData, *, actor, now: datetime) -> Panel:
    panel = Panel(competition_id=competition.id, created_at=now)
    _apply_panel(panel, competition, data)
    db.session.add(panel)
    db.session.flush()
    _audit(actor, competition, "judging.panel_create", now, obj=panel, name=panel.name)
    return panel


def update_panel(panel: Panel, data: PanelData, *, actor, now: datetime) -> Panel:
    competition = db.session.get(Competition, panel.competition_id)
    _apply_panel(panel, competition, data)
    db.session.flush()
    _audit(actor, competition, "judging.panel_update", now, obj=panel, name=panel.name)
    return panel


def _scored_pairs(round_id: int, pairs: set[tuple[int, int]] | None = None) -> set[tuple[int, int]]:
    """(judge user id, entrant id) pairs with any score in the round."""
    rows = db.session.execute(sa.select(Score.judge_id, Score.entrant_id).where(Score.round_id == round_id)
                              .distinct()).all()
    found = {(j, e) for j, e in rows}
    return found if pairs is None else found & pairs


def delete_panel(panel: Panel, *, actor, now: datetime) -> None:
    competition = db.session.get(Competition, panel.competition_id)
    assigned = {(a.judge_id, a.entrant_id) for a in panel_assignments(panel)}
    if _scored_pairs(panel.round_id, assigned):
        raise JudgingError("has_scores", _("Judges of this panel have scores: it can no longer be deleted."),
                           status=409)
    _audit(actor, competition, "judging.panel_delete", now, obj=panel, name=panel.name)
    db.session.execute(sa.delete(Assignment).where(Assignment.panel_id == panel.id))
    db.session.delete(panel)
    db.session.flush()


def list_panels(competition: Competition) -> list[Panel]:
    """By round, then in the order of the groups (panels of every group last), then by name."""
    return list(db.session.scalars(
        sa.select(Panel).join(Round, Round.id == Panel.round_id).outerjoin(Group, Group.id == Panel.group_id)
        .where(Panel.competition_id == competition.id)
        .order_by(Round.position, Round.id, Group.position.is_(None), Group.position, Panel.name, Panel.id)))


def _check_criteria(panel: Panel, criterion_ids: list[int]) -> list[int]:
    wanted = sorted(set(criterion_ids))
    if not wanted:
        return []
    known = {c.id for c in round_criteria(db.session.get(Round, panel.round_id))}
    if not set(wanted) <= known:
        raise JudgingError("unknown_criterion", _("Choose criteria of this round's rubric."), status=422,
                           field="criteria")
    return wanted


def add_panel_judge(panel: Panel, profile: JudgeProfile, criterion_ids: list[int], *, actor,
                    now: datetime) -> PanelJudge:
    competition = db.session.get(Competition, panel.competition_id)
    if profile.competition_id != panel.competition_id:
        raise JudgingError("unknown_judge", _("Choose one of this competition's judges."), status=422, field="judge")
    if any(pj.profile_id == profile.id for pj in panel.judges):
        raise JudgingError("duplicate_panel_judge", _("This judge is already on the panel."), status=409,
                           field="judge")
    wanted = _check_criteria(panel, criterion_ids)
    member = PanelJudge(panel_id=panel.id, profile_id=profile.id,
                        position=max((pj.position for pj in panel.judges), default=0) + 1)
    member.criteria = [PanelJudgeCriterion(criterion_id=c) for c in wanted]
    db.session.add(member)
    db.session.flush()
    db.session.expire(panel, ["judges"])
    _audit(actor, competition, "judging.panel_judge_add", now, obj=panel, user_id=profile.user_id,
           criteria=wanted or None)
    return member


def set_judge_share(member: PanelJudge, criterion_ids: list[int], *, actor, now: datetime) -> PanelJudge:
    """Which criteria this judge scores on the panel (none: all). Refused once the judge has scores there."""
    panel = member.panel
    competition = db.session.get(Competition, panel.competition_id)
    wanted = _check_criteria(panel, criterion_ids)
    if wanted != sorted(member.criterion_ids):
        assigned = {(a.judge_id, a.entrant_id) for a in panel_assignments(panel) if a.panel_judge_id == member.id}
        if _scored_pairs(panel.round_id, assigned):
            raise JudgingError("has_scores", _("This judge has scores on this panel: their criteria no longer change."),
                               status=409)
    member.criteria = [PanelJudgeCriterion(criterion_id=c) for c in wanted]
    db.session.flush()
    _audit(actor, competition, "judging.panel_judge_share", now, obj=panel, user_id=member.profile.user_id,
           criteria=wanted or None)
    return member


def remove_panel_judge(member: PanelJudge, *, actor, now: datetime) -> None:
    panel = member.panel
    competition = db.session.get(Competition, panel.competition_id)
    assigned = {(a.judge_id, a.entrant_id) for a in panel_assignments(panel) if a.panel_judge_id == member.id}
    if _scored_pairs(panel.round_id, assigned):
        raise JudgingError("has_scores", _("This judge has scores on this panel and can no longer leave it."),
                           status=409)
    _audit(actor, competition, "judging.panel_judge_remove", now, obj=panel, user_id=member.profile.user_id)
    db.session.execute(sa.delete(Assignment).where(Assignment.panel_judge_id == member.id))
    db.session.delete(member)
    db.session.flush()
    db.session.expire(panel, ["judges"])


def panel_entrants(panel: Panel) -> list[Entrant]:
    """The entrants a panel scores: its group's (or every entrant of the competition), in the organizer's order."""
    query = sa.select(Entrant).where(Entrant.competition_id == panel.competition_id)
    if panel.group_id is not None:
        query = query.where(Entrant.group_id == panel.group_id)
    return list(db.session.scalars(query.order_by(Entrant.position, Entrant.id)))


def panel_assignments(panel: Panel) -> list[Assignment]:
    return list(db.session.scalars(sa.select(Assignment).where(Assignment.panel_id == panel.id)
                                   .order_by(Assignment.entrant_id, Assignment.panel_judge_id)))


@dataclass
class Exclusion:
    entrant: Entrant
    member: PanelJudge
    reasons: list[str]
    assigned: bool  # assigned although conflicted (the identity changed after the assignment): must be fixed


@dataclass
class PanelOverview:
    """Everything the organizer's panel page shows (names and units included: organizers may see them)."""

    panel: Panel
    round: Round
    entrants: list[Entrant]
    members: list[PanelJudge]
    codes: dict[int, str]  # entrant id -> station code
    assigned: set[tuple[int, int]]  # (panel judge id, entrant id)
    conflicts: dict[tuple[int, int], list[str]]  # (panel judge id, entrant id) -> reasons
    exclusions: list[Exclusion]
    covered_by: dict[int, list[PanelJudge]]  # entrant id -> the panel's judges assigned to it
    loads: dict[int, int]  # panel judge id -> entrants assigned
    scored: dict[int, int]  # panel judge id -> entrants submitted
    plan: planner.AssignmentPlan
    elsewhere: set[tuple[int, int]]  # (panel judge id, entrant id) assigned through another panel of the round

    @property
    def suggestion_differs(self) -> bool:
        return set(self.plan.pairs) != self.assigned


def panel_overview(panel: Panel) -> PanelOverview:
    round_ = db.session.get(Round, panel.round_id)
    entrants = panel_entrants(panel)
    members = list(panel.judges)
    identities = {m.id: judge_identity(m.profile) for m in members}
    conflicts = {}
    for member in members:
        for entrant in entrants:
            reasons = planner.conflict_reasons(identities[member.id], entrant_identity(entrant))
            if reasons:
                conflicts[(member.id, entrant.id)] = reasons
    assignments = panel_assignments(panel)
    assigned = {(a.panel_judge_id, a.entrant_id) for a in assignments}
    by_user = {m.profile.user_id: m for m in members}
    other = db.session.execute(sa.select(Assignment.judge_id, Assignment.entrant_id).where(
        Assignment.round_id == panel.round_id, Assignment.panel_id != panel.id,
        Assignment.judge_id.in_(list(by_user) or [0]))).all()
    elsewhere = {(by_user[j].id, e) for j, e in other}
    members_by_id = {m.id: m for m in members}
    covered_by = {e.id: [members_by_id[m] for m, ee in sorted(assigned) if ee == e.id] for e in entrants}
    exclusions = [Exclusion(entrant=e, member=members_by_id[m], reasons=reasons, assigned=(m, e.id) in assigned)
                  for (m, eid), reasons in conflicts.items() for e in entrants if e.id == eid]
    exclusions.sort(key=lambda x: (x.entrant.position, x.entrant.id, x.member.position))
    codes = dict(db.session.execute(sa.select(DrawCode.entrant_id, DrawCode.code).where(
        DrawCode.competition_id == panel.competition_id, DrawCode.stage == 1)).all())
    submitted = db.session.execute(sa.select(Score.judge_id, Score.entrant_id).where(
        Score.round_id == panel.round_id, Score.state == ScoreState.SUBMITTED).distinct()).all()
    scored = {m.id: 0 for m in members}
    for judge_id, entrant_id in submitted:
        member = by_user.get(judge_id)
        if member is not None and (member.id, entrant_id) in assigned:
            scored[member.id] += 1
    plan = suggest_for_panel(panel, members=members, entrants=entrants, conflicts=set(conflicts),
                             assigned=assigned, elsewhere=elsewhere)
    loads = {m.id: sum(1 for mm, _e in assigned if mm == m.id) for m in members}
    return PanelOverview(panel=panel, round=round_, entrants=entrants, members=members, codes=codes,
                         assigned=assigned, conflicts=conflicts, exclusions=exclusions, covered_by=covered_by,
                         loads=loads, scored=scored, plan=plan, elsewhere=elsewhere)


def suggest_for_panel(panel: Panel, *, members, entrants, conflicts, assigned, elsewhere) -> planner.AssignmentPlan:
    """The balanced suggestion for a panel (``judging.assignment``), keeping what is assigned where possible.
    A judge who already scores an entrant through another panel of the round counts as conflicted here."""
    return planner.suggest_assignment([m.id for m in members], [e.id for e in entrants],
                                      per_entrant=panel.judges_per_entrant, conflicts=set(conflicts) | set(elsewhere),
                                      current=assigned)


def set_assignments(panel: Panel, pairs: set[tuple[int, int]], *, actor, now: datetime) -> tuple[int, int]:
    """Make the panel's assignments exactly ``pairs`` of (panel judge id, entrant id). A conflicted pair is refused
    (checked against the entrants' sealed identities); so is removing a pair that has scores. Returns
    (added, removed)."""
    competition = db.session.get(Competition, panel.competition_id)
    round_ = db.session.get(Round, panel.round_id)
    if round_.state == RoundState.LOCKED:
        raise JudgingError("locked", _("This round's scores are final: assignments no longer change."), status=409)
    members = {m.id: m for m in panel.judges}
    entrants = {e.id: e for e in panel_entrants(panel)}
    for member_id, entrant_id in pairs:
        if member_id not in members or entrant_id not in entrants:
            raise JudgingError("unknown_pair", _("Choose judges of this panel and entrants of its group."), status=422)
        reasons = planner.conflict_reasons(judge_identity(members[member_id].profile),
                                           entrant_identity(entrants[entrant_id]))
        if reasons:
            raise JudgingError("conflict", _("%(judge)s may not score %(entrant)s (回避: %(reasons)s).",
                                             judge=members[member_id].profile.user.name,
                                             entrant=entrants[entrant_id].name,
                                             reasons=", ".join(conflict_reason_text(r) for r in reasons)),
                               status=409)
    current = {(a.panel_judge_id, a.entrant_id): a for a in panel_assignments(panel)}
    removed = [a for key, a in current.items() if key not in pairs]
    scored = _scored_pairs(panel.round_id, {(a.judge_id, a.entrant_id) for a in removed})
    if scored:
        raise JudgingError("has_scores", _("%(n)d of the assignments to remove already have scores; they stay.",
                                           n=len(scored)), status=409)
    for item in removed:
        db.session.delete(item)
    db.session.flush()
    added = 0
    for member_id, entrant_id in sorted(pairs - set(current)):
        member = members[member_id]
        taken = db.session.scalar(sa.select(Assignment.id).where(
            Assignment.round_id == panel.round_id, Assignment.judge_id == member.profile.user_id,
            Assignment.entrant_id == entrant_id))
        if taken is not None:
            raise JudgingError("assigned_elsewhere", _("%(judge)s already scores %(entrant)s on another panel of this "
                                                       "round.", judge=member.profile.user.name,
                                                       entrant=entrants[entrant_id].name), status=409)
        db.session.add(Assignment(round_id=panel.round_id, panel_id=panel.id, panel_judge_id=member_id,
                                  judge_id=member.profile.user_id, entrant_id=entrant_id, created_at=now))
        added += 1
    db.session.flush()
    if added or removed:
        _audit(actor, competition, "judging.assign", now, obj=panel, added=added, removed=len(removed))
    return added, len(removed)


def apply_suggestion(panel: Panel, *, actor, now: datetime) -> tuple[int, int]:
    """Assign as the balanced suggestion says (pairs that already have scores always stay)."""
    overview = panel_overview(panel)
    pairs = set(overview.plan.pairs)
    members = {m.id: m for m in overview.members}
    user_pairs = {(members[m].profile.user_id, e): (m, e) for m, e in overview.assigned}
    for key in _scored_pairs(panel.round_id, set(user_pairs)):
        pairs.add(user_pairs[key])
    return set_assignments(panel, pairs, actor=actor, now=now)


def conflict_reason_text(reason: str) -> str:
    return {
        "unit": _("own unit"),
        "coach": _("coaches this entrant"),
        "coach_name": _("named as this entrant's coach"),
    }.get(reason, reason)


# ---------------------------------------------------------------- the judge's seat in a round


@dataclass
class Seat:
    """What a judge may do in a round: the entrants assigned to them and, per entrant, their criteria."""

    user: User
    round: Round
    competition: Competition
    event: Event
    profile: JudgeProfile
    settings: RoundJudging
    criteria: dict[int, Criterion]  # the round's criteria by id
    shares: dict[int, set[int]]  # entrant id -> criterion ids of this judge's share


def _not_a_judge() -> JudgingError:
    return JudgingError("not_a_judge", _("You are not a judge of this competition."), status=403)


def judge_seat(user, round_id: int) -> Seat:
    """The caller's seat in a round: 404 when the round is unknown to them (no role in its organization), 403 when
    they are not a judge of its competition."""
    round_ = db.session.get(Round, round_id) if isinstance(round_id, int) else None
    if round_ is None:
        raise JudgingError("not_found", _("The page or item was not found."), status=404)
    competition = db.session.get(Competition, round_.competition_id)
    event = competition.event
    if not can_see_event_admin(user, event):
        raise JudgingError("not_found", _("The page or item was not found."), status=404)
    profile = judge_profile(competition, user.id)
    if profile is None or not roles_for_event(user, event) & JUDGING_ROLES:
        raise _not_a_judge()
    criteria = {c.id: c for c in round_criteria(round_)}
    rows = db.session.execute(
        sa.select(Assignment.entrant_id, PanelJudgeCriterion.criterion_id)
        .join(PanelJudge, PanelJudge.id == Assignment.panel_judge_id)
        .outerjoin(PanelJudgeCriterion, PanelJudgeCriterion.panel_judge_id == PanelJudge.id)
        .where(Assignment.round_id == round_.id, Assignment.judge_id == user.id)).all()
    shares: dict[int, set[int]] = {}
    for entrant_id, criterion_id in rows:
        share = shares.setdefault(entrant_id, set())
        if criterion_id is not None:
            share.add(criterion_id)
    for entrant_id, share in shares.items():
        if not share:
            share.update(criteria)
        share &= set(criteria)
    return Seat(user=user, round=round_, competition=competition, event=event, profile=profile,
                settings=round_settings(round_), criteria=criteria, shares=shares)


def _check_entrant(seat: Seat, entrant_id) -> tuple[Entrant, set[int]]:
    share = seat.shares.get(entrant_id) if isinstance(entrant_id, int) else None
    if share is None:
        raise JudgingError("not_assigned", _("This entrant is not assigned to you."), status=403)
    entrant = db.session.get(Entrant, entrant_id)
    if planner.conflict_reasons(judge_identity(seat.profile), entrant_identity(entrant)):
        raise JudgingError("conflict", _("You may not score this entrant (conflict of interest, 回避)."), status=403)
    return entrant, share


def _is_present(seat: Seat, entrant_id: int) -> bool:
    if not seat.settings.requires_roll_call:
        return True
    return bool(db.session.scalar(sa.select(RollCall.present).where(RollCall.round_id == seat.round.id,
                                                                    RollCall.entrant_id == entrant_id)))


def _check_present(seat: Seat, entrant_id: int) -> None:
    if not _is_present(seat, entrant_id):
        raise JudgingError("absent", _("This entrant has not been checked in at roll call (检录) for this round."),
                           status=409)


def _check_open(round_: Round) -> None:
    if round_.state == RoundState.LOCKED:
        raise JudgingError("locked", _("This round is locked: its scores are final."), status=409)


def _start_scoring(seat: Seat, now: datetime) -> None:
    """The first score of a round in set-up starts scoring (rubric locked, draw closed); a concurrent first score
    that already did it is fine."""
    from competition.services import CompetitionError, start_scoring

    if seat.round.state != RoundState.SETUP:
        return
    try:
        start_scoring(seat.round, actor=seat.user, now=now)
    except CompetitionError as error:
        if error.code != "already_started":
            raise JudgingError("not_ready", _("Scoring cannot start yet: %(reason)s", reason=error.message),
                               status=409) from None
    db.session.refresh(seat.round)


def _hold_round(seat: Seat) -> None:
    """Re-read the round under a share lock (PostgreSQL: locking the round waits for this write) and re-check it."""
    state = db.session.scalar(sa.select(Round.state).where(Round.id == seat.round.id).with_for_update(read=True))
    if state == RoundState.LOCKED:
        raise JudgingError("locked", _("This round is locked: its scores are final."), status=409)


# ---------------------------------------------------------------- nonces


def request_hash(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, ensure_ascii=True).encode("ascii")).hexdigest()


@dataclass
class ScoreOutcome:
    status: int
    body: dict
    replayed: bool = False


def _replay(user, nonce: str | None, asked: str) -> ScoreOutcome | None:
    if not nonce:
        return None
    stored = db.session.scalar(sa.select(ScoreRequest).where(ScoreRequest.nonce == nonce))
    if stored is None:
        return None
    if stored.judge_id != user.id or stored.request_hash != asked:
        raise JudgingError("nonce_reused", _("This request's nonce was already used for another request."), status=409)
    return ScoreOutcome(status=stored.status_code, body=stored.response, replayed=True)


def _remember(user, nonce: str | None, asked: str, outcome: ScoreOutcome, now: datetime) -> None:
    if nonce:
        db.session.add(ScoreRequest(nonce=nonce, judge_id=user.id, request_hash=asked, status_code=outcome.status,
                                    response=outcome.body, created_at=now))
        db.session.flush()  # a concurrent request with the same nonce makes this fail: the caller retries, replays


# ---------------------------------------------------------------- scores


def _code_of(seat: Seat, entrant_id: int) -> str | None:
    return db.session.scalar(sa.select(DrawCode.code).where(DrawCode.entrant_id == entrant_id,
                                                            DrawCode.stage == seat.settings.code_stage))


def _entrant_progress(seat: Seat, entrant_id: int, share: set[int]) -> dict:
    rows = db.session.execute(sa.select(Score.criterion_id, Score.value, Score.state, Score.submitted_at).where(
        Score.round_id == seat.round.id, Score.judge_id == seat.user.id, Score.entrant_id == entrant_id)).all()
    filled = sum(1 for c, v, _s, _at in rows if c in share and v is not None)
    submitted = [at for c, _v, s, at in rows if c in share and s == ScoreState.SUBMITTED]
    state = ("submitted" if share and len(submitted) == len(share) else
             "complete" if share and filled == len(share) else "draft" if filled else "blank")
    return {"id": entrant_id, "code": _code_of(seat, entrant_id), "state": state, "scored": filled,
            "required": len(share), "submitted_at": _iso(max(submitted)) if state == "submitted" else None}


def score_json(score: Score, criterion: Criterion, competition: Competition) -> dict:
    return {"entrant_id": score.entrant_id, "criterion_id": score.criterion_id, "round_id": score.round_id,
            "value": value_text(score.value, criterion, competition), "note": score.note, "state": score.state.value,
            "updated_at": _iso(score.updated_at), "submitted_at": _iso(score.submitted_at)}


def clean_note(note) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        raise JudgingError("invalid", _("note must be text."), status=422, field="note")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise JudgingError("too_long", _("Too long: at most %(n)d characters.", n=NOTE_MAX), status=422, field="note")
    return note


def save_draft(user, *, round_id: int, entrant_id: int, criterion_id: int, value, note=None, nonce: str | None,
               now: datetime) -> ScoreOutcome:
    """Save one value as a draft (``value`` None or "" is a blank; ``note`` None keeps the note). Last write wins
    among drafts; a submitted score is never changed here (409 ``submitted``). See the module's table of checks."""
    asked = request_hash("score", user.id, round_id, entrant_id, criterion_id, value, note)
    replayed = _replay(user, nonce, asked)
    if replayed is not None:
        return replayed
    seat = judge_seat(user, round_id)
    _check_open(seat.round)
    _entrant, share = _check_entrant(seat, entrant_id)
    criterion = seat.criteria.get(criterion_id) if isinstance(criterion_id, int) else None
    if criterion is None:
        raise JudgingError("unknown_criterion", _("This criterion is not part of this round's rubric."), status=422,
                           field="criterion_id")
    if criterion.id not in share:
        raise JudgingError("not_your_criterion", _("This criterion is scored by another judge."), status=403)
    _check_present(seat, entrant_id)
    try:
        number = validate_optional_value(criterion_spec(criterion, seat.competition), value)
    except ValueProblem as problem:
        raise value_problem_error(problem, criterion) from None
    note = clean_note(note)
    _start_scoring(seat, now)
    _hold_round(seat)
    rubric_version = db.session.scalar(sa.select(Rubric.version).where(Rubric.id == criterion.rubric_id))
    values = {"round_id": seat.round.id, "judge_id": user.id, "entrant_id": entrant_id, "criterion_id": criterion.id,
              "value": number, "note": note or "", "state": ScoreState.DRAFT, "source": ScoreSource.TABLET,
              "rubric_version": rubric_version, "created_at": now, "updated_at": now, "updated_by_id": user.id}
    statement = _insert(Score).values(**values)
    changes = {"value": statement.excluded.value, "updated_at": statement.excluded.updated_at,
               "updated_by_id": statement.excluded.updated_by_id, "source": statement.excluded.source}
    if note is not None:
        changes["note"] = statement.excluded.note
    score_id = db.session.execute(statement.on_conflict_do_update(
        index_elements=["judge_id", "entrant_id", "criterion_id", "round_id"], set_=changes,
        where=Score.state == ScoreState.DRAFT).returning(Score.id)).scalar()
    if score_id is None:  # the row exists and is submitted: the statement changed nothing
        raise JudgingError("submitted", _("This score has been submitted and can no longer change."), status=409)
    score = db.session.scalar(sa.select(Score).where(Score.id == score_id).execution_options(populate_existing=True))
    outcome = ScoreOutcome(200, {"status": "draft", "score": score_json(score, criterion, seat.competition),
                                 "entrant": _entrant_progress(seat, entrant_id, share)})
    _remember(user, nonce, asked, outcome, now)
    return outcome


def submit_entrant(user, *, round_id: int, entrant_id: int, nonce: str | None, now: datetime) -> ScoreOutcome:
    """Submit the judge's scores of one entrant: every criterion of their share must have a value; afterwards those
    scores no longer change (409 ``submitted``) except through a logged ``ScoreChange``."""
    asked = request_hash("submit", user.id, round_id, entrant_id)
    replayed = _replay(user, nonce, asked)
    if replayed is not None:
        return replayed
    seat = judge_seat(user, round_id)
    _check_open(seat.round)
    _entrant, share = _check_entrant(seat, entrant_id)
    _check_present(seat, entrant_id)
    if not share:
        raise JudgingError("incomplete", _("There is nothing to score for this entrant yet."), status=422)
    _hold_round(seat)
    where = (Score.round_id == seat.round.id, Score.judge_id == user.id, Score.entrant_id == entrant_id,
             Score.criterion_id.in_(sorted(share)))
    result = db.session.execute(sa.update(Score).where(*where, Score.state == ScoreState.DRAFT,
                                                       Score.value.is_not(None))
                                .values(state=ScoreState.SUBMITTED, submitted_at=now, updated_at=now,
                                        updated_by_id=user.id).execution_options(synchronize_session=False))
    submitted = set(db.session.scalars(sa.select(Score.criterion_id).where(*where,
                                                                           Score.state == ScoreState.SUBMITTED)))
    if submitted != share:
        missing = [seat.criteria[c].code for c in sorted(share - submitted,
                                                          key=lambda c: list(seat.criteria).index(c))]
        raise JudgingError("incomplete", _("Score every criterion before submitting; still blank: %(codes)s.",
                                           codes="、".join(missing)), status=422, details={"missing": missing})
    if result.rowcount == 0:
        raise JudgingError("submitted", _("These scores have already been submitted."), status=409)
    from judging.desk_services import record_resubmission  # scores the chief judge reopened: log the correction

    record_resubmission(seat.round, user, entrant_id, share, now=now)
    _audit(user, seat.competition, "judging.submit", now, obj=seat.round, entrant_id=entrant_id,
           criteria=len(share))
    outcome = ScoreOutcome(200, {"status": "submitted", "entrant": _entrant_progress(seat, entrant_id, share),
                                 "submitted_at": _iso(now)})
    _remember(user, nonce, asked, outcome, now)
    return outcome


# ---------------------------------------------------------------- the judge's sheet (what the tablet needs)


def _criterion_json(criterion: Criterion, module: Module, competition: Competition) -> dict:
    spec = criterion_spec(criterion, competition)
    return {
        "id": criterion.id, "code": criterion.code, "name": criterion.name, "description": criterion.description,
        "module": {"code": module.code, "name": module.name},
        "kind": criterion.kind.value, "maximum": plain(criterion.maximum), "step": plain(criterion.step),
        "places": spec.places, "ladder": bool(criterion.ladder),
        "levels": list(criterion.levels or []) if criterion.ladder else [],
        "full_or_zero": spec.allowed is not None,
    }


def natural_key(code: str | None) -> tuple:
    parts = re.split(r"(\d+)", code or "")
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def judge_sheet(user, round_id: int, *, now: datetime) -> dict:
    """Everything the tablet needs for one round, by code only: the judge's entrants (present or not, progress),
    the criteria of their share with maximum, step, kind and ladder descriptors, and their current values."""
    seat = judge_seat(user, round_id)
    modules = {m.id: m for m in db.session.scalars(sa.select(Module).where(
        Module.id.in_({c.module_id for c in seat.criteria.values()} or {0})))}
    used = set().union(*seat.shares.values()) if seat.shares else set()
    criteria = [c for c in seat.criteria.values() if c.id in used]
    ids = sorted(seat.shares)
    identities = db.session.execute(sa.select(Entrant.id, Entrant.unit, Entrant.coaches).where(Entrant.id.in_(ids or [0])))
    judge = judge_identity(seat.profile)
    allowed = [i for i, unit, coaches in identities
               if not planner.conflict_reasons(judge, planner.EntrantIdentity(key=i, unit=unit or "",
                                                                              coaches=tuple(coaches or ())))]
    codes = dict(db.session.execute(sa.select(DrawCode.entrant_id, DrawCode.code).where(
        DrawCode.entrant_id.in_(allowed or [0]), DrawCode.stage == seat.settings.code_stage)).all())
    present = set(db.session.scalars(sa.select(RollCall.entrant_id).where(
        RollCall.round_id == seat.round.id, RollCall.present.is_(True), RollCall.entrant_id.in_(allowed or [0]))))
    scores: dict[int, list[Score]] = {}
    for score in db.session.scalars(sa.select(Score).where(Score.round_id == seat.round.id,
                                                           Score.judge_id == user.id)):
        scores.setdefault(score.entrant_id, []).append(score)
    from judging.desk_services import reopened_for_judge

    reopened = reopened_for_judge(seat.round.id, user.id)
    entrants = []
    for entrant_id in sorted((i for i in allowed if i in codes), key=lambda i: natural_key(codes[i])):
        share = seat.shares[entrant_id]
        mine = {s.criterion_id: s for s in scores.get(entrant_id, []) if s.criterion_id in share}
        filled = sum(1 for s in mine.values() if s.value is not None)
        submitted = [s.submitted_at for s in mine.values() if s.state == ScoreState.SUBMITTED]
        state = ("submitted" if share and len(submitted) == len(share) else
                 "complete" if share and filled == len(share) else "draft" if filled else "blank")
        entrants.append({
            "id": entrant_id, "code": codes[entrant_id],
            "present": (entrant_id in present) or not seat.settings.requires_roll_call,
            "state": state, "scored": filled, "required": len(share),
            "submitted_at": _iso(max(submitted)) if state == "submitted" else None,
            "criteria": [c.id for c in criteria if c.id in share],
            # scores the chief judge gave back (unlock, re-score request) with the reason: the tablet shows them
            "reopened": [r for r in reopened.get(entrant_id, []) if r["criterion_id"] in share],
            "scores": {str(cid): {"value": value_text(s.value, seat.criteria[cid], seat.competition), "note": s.note,
                                  "state": s.state.value, "updated_at": _iso(s.updated_at)}
                       for cid, s in mine.items()},
        })
    from competition.works import batches_for_sheet, works_for_judge  # submitted works, defense batches (批次)

    batches, places = batches_for_sheet(seat.round.id, [e["id"] for e in entrants])
    links = works_for_judge([e["id"] for e in entrants], codes)
    for entry in entrants:
        entry["works"] = links.get(entry["id"], [])  # [{"id", "kind", "label"}]: the label is the code, never a name
        entry["batch_id"] = places[entry["id"]][2] if entry["id"] in places else None
    entrants.sort(key=lambda e: (e["id"] not in places, places.get(e["id"], (0, 0, 0))[:2]))  # batch order, then code
    return {
        "round": {"id": seat.round.id, "name": seat.round.name, "state": seat.round.state.value,
                  "requires_roll_call": seat.settings.requires_roll_call, "code_stage": seat.settings.code_stage},
        "competition": {"id": seat.competition.id, "title": seat.competition.title, "places": seat.competition.places},
        "event": {"id": seat.event.id, "title": seat.event.title, "timezone": seat.event.timezone},
        "judge": {"id": user.id},
        "criteria": [_criterion_json(c, modules[c.module_id], seat.competition) for c in criteria],
        "entrants": entrants,
        "batches": batches,  # [{"id", "name", "starts_at", "room", "position"}] of the round's defense schedule
        "waiting_for_code": sum(1 for i in allowed if i not in codes),
        "progress": {"submitted": sum(1 for e in entrants if e["state"] == "submitted"), "assigned": len(entrants)},
        "generated_at": _iso(now),
    }


def judge_rounds(user) -> list[dict]:
    """The rounds in which ``user`` has entrants assigned (for the judge's start page), with their progress."""
    rows = db.session.execute(
        sa.select(Round, sa.func.count(Assignment.id)).join(Assignment, Assignment.round_id == Round.id)
        .where(Assignment.judge_id == user.id).group_by(Round.id).order_by(Round.id)).all()
    found = []
    for round_, assigned in rows:
        competition = db.session.get(Competition, round_.competition_id)
        event = competition.event
        if not can_see_event_admin(user, event) or judge_profile(competition, user.id) is None:
            continue
        # as the tablet counts: an entrant with a score given back (unlocked, re-score asked) is not submitted
        mine = Score.__table__.alias("mine")
        reopened = sa.select(Score.id).where(Score.round_id == round_.id, Score.judge_id == user.id,
                                             Score.entrant_id == mine.c.entrant_id,
                                             Score.state != ScoreState.SUBMITTED)
        submitted_entrants = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(mine.c.entrant_id))).where(
                mine.c.round_id == round_.id, mine.c.judge_id == user.id, mine.c.state == ScoreState.SUBMITTED,
                ~reopened.exists()))
        found.append({"round": round_, "competition": competition, "event": event, "assigned": assigned,
                      "submitted": submitted_entrants or 0})
    return found


def judge_profiles_of(user) -> list[JudgeProfile]:
    """The competitions in which ``user`` is a judge (and still has a role in the event's organization)."""
    profiles = db.session.scalars(sa.select(JudgeProfile).where(JudgeProfile.user_id == user.id)
                                  .order_by(JudgeProfile.id))
    return [p for p in profiles if can_see_event_admin(user, db.session.get(Competition, p.competition_id).event)]


# ---------------------------------------------------------------- changes to submitted scores (chief judge)


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise JudgingError("reason_required", _("Say why the score changes."), status=422, field="reason")
    if len(text) > 1000:
        raise JudgingError("too_long", _("Too long: at most %(n)d characters.", n=1000), status=422, field="reason")
    return text


def _check_correction_allowed(round_: Round, competition: Competition, kind: ScoreChangeKind) -> None:
    """A locked round's scores change only at their step of the lock chain (``judging.process``): review (复核)
    while the review runs, appeal while the results are provisional, revision once final. Any other change needs
    the round open, and never touches final results."""
    from judging import process

    try:
        if kind in (ScoreChangeKind.REVIEW, ScoreChangeKind.APPEAL, ScoreChangeKind.REVISION) \
                and process.is_strict(competition):
            process.check_correction(competition, kind.value)
            return
        _check_open(round_)
        if process.is_final(competition):
            raise JudgingError("final", _("The results are final: changes are revisions of the final results."),
                               status=409)
    except process.ProcessError as error:
        raise JudgingError(error.code, error.message, status=error.status) from None


def change_submitted_score(score: Score, value, *, actor, reason: str, now: datetime,
                           kind: ScoreChangeKind = ScoreChangeKind.CORRECTION) -> ScoreChange:
    """Correct a submitted score (the chief judge, after review): the old and new value, who, when and why are kept
    in ``ScoreChange`` (``kind``: correction, review or appeal). Conditional on the value read, so two corrections
    at once cannot both apply."""
    reason = _reason(reason)
    round_ = db.session.get(Round, score.round_id)
    competition = db.session.get(Competition, round_.competition_id)
    _check_correction_allowed(round_, competition, ScoreChangeKind(kind))
    if score.state != ScoreState.SUBMITTED:
        raise JudgingError("not_submitted", _("Only a submitted score is corrected this way."), status=409)
    criterion = db.session.get(Criterion, score.criterion_id)
    try:
        number = validate_value(criterion_spec(criterion, competition), value)
    except ValueProblem as problem:
        raise value_problem_error(problem, criterion) from None
    old = score.value
    result = db.session.execute(sa.update(Score).where(Score.id == score.id, Score.state == ScoreState.SUBMITTED,
                                                       Score.value == old)
                                .values(value=number, updated_at=now, updated_by_id=getattr(actor, "id", None))
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise JudgingError("changed_meanwhile", _("The score changed meanwhile; reload and try again."), status=409)
    change = ScoreChange(score_id=score.id, old_value=old, new_value=number, old_state=ScoreState.SUBMITTED,
                         new_state=ScoreState.SUBMITTED, changed_by_id=getattr(actor, "id", None), changed_at=now,
                         reason=reason, kind=ScoreChangeKind(kind))
    db.session.add(change)
    _audit(actor, competition, "judging.score_change", now, obj=score, old=plain(old), new=plain(number),
           kind=ScoreChangeKind(kind).value)
    db.session.flush()
    db.session.refresh(score)
    return change


def reopen_entrant(round_: Round, judge_id: int, entrant_id: int, *, actor, reason: str, now: datetime) -> int:
    """Give a judge's submitted scores of one entrant back to them as drafts (the judge corrects them on the tablet
    and submits again); each score's change is logged. Returns how many scores were reopened."""
    reason = _reason(reason)
    _check_open(round_)
    competition = db.session.get(Competition, round_.competition_id)
    scores = list(db.session.scalars(sa.select(Score).where(
        Score.round_id == round_.id, Score.judge_id == judge_id, Score.entrant_id == entrant_id,
        Score.state == ScoreState.SUBMITTED)))
    reopened = 0
    for score in scores:
        result = db.session.execute(sa.update(Score).where(Score.id == score.id, Score.state == ScoreState.SUBMITTED)
                                    .values(state=ScoreState.DRAFT, submitted_at=None, updated_at=now,
                                            updated_by_id=getattr(actor, "id", None))
                                    .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            reopened += 1
            db.session.add(ScoreChange(score_id=score.id, old_value=score.value, new_value=score.value,
                                       old_state=ScoreState.SUBMITTED, new_state=ScoreState.DRAFT,
                                       changed_by_id=getattr(actor, "id", None), changed_at=now, reason=reason,
                                       kind=ScoreChangeKind.UNLOCK))
    if not reopened:
        raise JudgingError("not_submitted", _("There are no submitted scores to reopen."), status=409)
    _audit(actor, competition, "judging.reopen", now, obj=round_, judge_id=judge_id, entrant_id=entrant_id,
           scores=reopened)
    db.session.flush()
    return reopened


def score_history(score: Score) -> list[ScoreChange]:
    return list(db.session.scalars(sa.select(ScoreChange).where(ScoreChange.score_id == score.id)
                                   .order_by(ScoreChange.changed_at, ScoreChange.id)))
