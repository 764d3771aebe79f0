"""Appeals (申诉) use cases. Like every service in Saihui these functions flush but never commit, take the actor and
the time as parameters and raise ``AppealError`` (a DomainError: stable ``code``, translated ``message``, HTTP
``status``); the caller commits once, or rolls the whole unit of work back.

Filing (``file_appeal``): the team leader (through the sign-up's manage link) or an organizer on their behalf files
a written appeal against one entrant's result. Checks, in this order (the first that applies answers):

==================  ======  ========================================================================================
code                status  when
==================  ======  ========================================================================================
reason_required     422     no written reason (or shorter than ``REASON_MIN`` characters)
reason_too_long     422     more than ``REASON_MAX`` characters
attachment_*        422     the attachment is empty, too large, or not a PDF / PNG / JPEG (by its magic bytes)
final               409     the results are final: nothing is appealed any more (the arbitration's decision is final)
not_published       409     the results are not published as provisional (公示) yet: nothing to appeal against
deadline_passed     409     the appeal deadline has passed (checked on the server, with the request's time)
no_deadline         409     the results are provisional but no deadline is known (refused rather than unbounded)
already_appealed    409     the entrant has filed as many appeals as the rules allow (default one)
==================  ======  ========================================================================================

Deciding (``decide_appeal``): an arbitrator (``JudgeRole.ARBITRATOR``) of the competition records the decision.
The state moves once, ``open`` → ``upheld`` / ``rejected``, by one conditional UPDATE (``… WHERE state = 'open'``);
two arbitrators deciding at once get one decision, the other ``already_decided``. An upheld appeal names the scores
re-checked and their corrected values; each correction goes through ``judging.services.change_submitted_score``
(the audited path: a ``ScoreChange`` with old and new value, who, when and the reason ``申诉 #n：…``).

The competition's process state (provisional, deadline, final) comes from ``judging.process`` (the lock chain);
``results_are_provisional``, ``appeal_deadline`` and ``is_final`` here are thin seams over it.
"""
from __future__ import annotations

import inspect
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from appeals.models import (
    DECISION_MAX,
    DEFAULT_APPEALS_PER_ENTRANT,
    MAX_APPEALS_PER_ENTRANT,
    REASON_MAX,
    REASON_MIN,
    Appeal,
    AppealChannel,
    AppealCorrection,
    AppealSettings,
    AppealState,
)
from competition.models import Competition, Entrant, Round
from core.errors import DomainError
from core.models import record_audit
from extensions import db
from judging.models import JudgeProfile, JudgeRole, Score, ScoreState

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_NAME_MAX = 200
# type -> (magic bytes at the start, file extension)
ATTACHMENT_TYPES = {
    "application/pdf": (b"%PDF-", ".pdf"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
}
ATTACHMENT_FOLDER = "appeal_files"


class AppealError(DomainError):
    """A refused appeal request: ``code`` for machines, translated ``message`` for people."""


# ---------------------------------------------------------------- the lock chain's state (judging.process)


def results_are_provisional(competition: Competition) -> bool:
    from judging import process

    return bool(process.results_are_provisional(competition))


def appeal_deadline(competition: Competition) -> datetime | None:
    from judging import process

    return process.appeal_deadline(competition)


def is_final(competition: Competition) -> bool:
    from judging import process

    return bool(process.is_final(competition))


def results_published(competition: Competition) -> bool:
    from competition.results import get_state

    state = get_state(competition.id)
    return bool(state and state.published)


# ---------------------------------------------------------------- small helpers


def open_appeal_count(competition: Competition) -> int:
    """How many appeals of the competition wait for the arbitration group's decision (final results wait for 0)."""
    return db.session.scalar(sa.select(sa.func.count(Appeal.id)).where(
        Appeal.competition_id == competition.id, Appeal.state == AppealState.OPEN)) or 0


def _audit(actor, competition: Competition, action: str, now: datetime, obj, **details) -> None:
    record_audit(actor=actor, organization_id=competition.event.organization_id, action=action, obj=obj, now=now,
                 competition_id=competition.id, **details)


def settings_of(competition: Competition) -> AppealSettings:
    """The competition's appeal settings (not stored until changed: the defaults)."""
    found = db.session.get(AppealSettings, competition.id)
    return found or AppealSettings(competition_id=competition.id, appeals_per_entrant=DEFAULT_APPEALS_PER_ENTRANT)


def update_settings(competition: Competition, *, appeals_per_entrant: int, actor, now: datetime) -> AppealSettings:
    try:
        number = int(appeals_per_entrant)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= MAX_APPEALS_PER_ENTRANT:
        raise AppealError("bad_setting", _("Appeals per entrant must be a whole number from 1 to %(n)d.",
                                           n=MAX_APPEALS_PER_ENTRANT), status=422, field="appeals_per_entrant")
    found = db.session.get(AppealSettings, competition.id)
    before = found.appeals_per_entrant if found else DEFAULT_APPEALS_PER_ENTRANT
    if found is None:
        found = AppealSettings(competition_id=competition.id)
        db.session.add(found)
    found.appeals_per_entrant = number
    found.updated_at = now
    found.updated_by_id = getattr(actor, "id", None)
    _audit(actor, competition, "appeal.settings", now, competition, old=before, new=number)
    db.session.flush()
    return found


def clean_reason(text: str | None) -> str:
    reason = (text or "").replace("\r\n", "\n").strip()
    if len(reason) < REASON_MIN:
        raise AppealError("reason_required", _("Write the reason for the appeal (at least %(n)d characters).",
                                               n=REASON_MIN), status=422, field="reason")
    if len(reason) > REASON_MAX:
        raise AppealError("reason_too_long", _("Too long: at most %(n)d characters.", n=REASON_MAX), status=422,
                          field="reason")
    return reason


@dataclass(frozen=True)
class Upload:
    """An attachment as received: the name the person gave it and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    data: bytes
    content_type: str
    extension: str


def check_attachment(upload: Upload | None) -> CheckedUpload | None:
    """The attachment's type by its magic bytes (never by its name or the browser's word), and its size."""
    if upload is None or (not upload.filename and not upload.data):
        return None
    if not upload.data:
        raise AppealError("attachment_empty", _("The attached file is empty."), status=422, field="attachment")
    if len(upload.data) > ATTACHMENT_MAX_BYTES:
        raise AppealError("attachment_too_large", _("The attached file is too large: at most %(mb)d MB.",
                                                    mb=ATTACHMENT_MAX_BYTES // (1024 * 1024)), status=422,
                          field="attachment")
    for content_type, (magic, extension) in ATTACHMENT_TYPES.items():
        if upload.data.startswith(magic):
            name = Path((upload.filename or "").replace("\\", "/")).name.strip()[:ATTACHMENT_NAME_MAX]
            return CheckedUpload(filename=name or f"attachment{extension}", data=upload.data,
                                 content_type=content_type, extension=extension)
    raise AppealError("attachment_type", _("Attach a PDF, PNG or JPEG file."), status=422, field="attachment")


def attachment_folder() -> Path:
    folder = Path(current_app.instance_path) / ATTACHMENT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def attachment_path(appeal: Appeal) -> Path | None:
    if not appeal.attachment_file:
        return None
    return attachment_folder() / appeal.attachment_file


def _store(upload: CheckedUpload) -> str:
    name = secrets.token_hex(16) + upload.extension
    (attachment_folder() / name).write_bytes(upload.data)
    return name


def discard_attachment(appeal: Appeal | None) -> None:
    """Remove a stored attachment whose appeal was not committed (the caller rolled back)."""
    if appeal is not None and appeal.attachment_file:
        path = attachment_folder() / appeal.attachment_file
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- may an appeal be filed now?


@dataclass(frozen=True)
class Window:
    """Whether appeals may be filed against the competition's results at ``now``; when not, why (code, message)."""

    open: bool
    deadline: datetime | None
    code: str | None = None
    message: str | None = None


def appeal_window(competition: Competition, now: datetime) -> Window:
    from core.templating import format_local

    if is_final(competition):
        return Window(False, None, "final", _("The results are final: appeals are closed. The arbitration group's "
                                              "decisions are final."))
    if not results_are_provisional(competition):
        return Window(False, None, "not_published", _("The results have not been published as provisional yet: "
                                                      "there is nothing to appeal against."))
    deadline = appeal_deadline(competition)
    if deadline is None:
        return Window(False, None, "no_deadline", _("No appeal deadline has been set for these results; ask the "
                                                    "organizer."))
    if now > deadline:
        when = format_local(deadline, competition.event.timezone)
        return Window(False, deadline, "deadline_passed",
                      _("The appeal deadline (%(when)s) has passed: appeals are no longer accepted.", when=when))
    return Window(True, deadline)


def appeals_of_entrant(entrant: Entrant) -> list[Appeal]:
    return list(db.session.scalars(sa.select(Appeal).where(Appeal.entrant_id == entrant.id)
                                   .order_by(Appeal.slot)))


def remaining_appeals(entrant: Entrant) -> int:
    allowed = settings_of(db.session.get(Competition, entrant.competition_id)).appeals_per_entrant
    return max(allowed - len(appeals_of_entrant(entrant)), 0)


# ---------------------------------------------------------------- filing


def file_appeal(entrant: Entrant, *, reason: str, attachment: Upload | None = None, channel: AppealChannel,
                appellant_name: str | None = None, actor=None, now: datetime) -> Appeal:
    """File a written appeal for ``entrant``. ``channel``: the team leader through the manage link (``actor`` None)
    or an organizer on their behalf (``actor`` the organizer). Stores the attachment under a random name; the
    caller must ``discard_attachment`` if it rolls back."""
    competition = db.session.get(Competition, entrant.competition_id)
    reason = clean_reason(reason)
    checked = check_attachment(attachment)
    window = appeal_window(competition, now)
    if not window.open:
        raise AppealError(window.code, window.message, status=409)
    from competition.services import lock_competition

    lock_competition(competition)  # serializes filers of this competition: numbers and the per-entrant limit
    allowed = settings_of(competition).appeals_per_entrant
    filed = db.session.scalar(sa.select(sa.func.count(Appeal.id)).where(Appeal.entrant_id == entrant.id)) or 0
    if filed >= allowed:
        if allowed == 1:
            message = _("An appeal has already been filed for this entrant; the rules allow one appeal per entrant.")
        else:
            message = _("This entrant has already filed %(n)d appeals, as many as the rules allow.", n=filed)
        raise AppealError("already_appealed", message, status=409)
    number = (db.session.scalar(sa.select(sa.func.max(Appeal.number)).where(
        Appeal.competition_id == competition.id)) or 0) + 1
    name = (appellant_name or "").strip()[:100] or _appellant_of(entrant)
    appeal = Appeal(competition_id=competition.id, entrant_id=entrant.id, registration_id=entrant.registration_id,
                    number=number, slot=filed + 1, state=AppealState.OPEN, channel=channel, appellant_name=name,
                    reason=reason, filed_at=now, deadline=window.deadline,
                    filed_by_id=getattr(actor, "id", None) if channel == AppealChannel.ORGANIZER else None,
                    decision="")
    if checked is not None:
        appeal.attachment_name = checked.filename
        appeal.attachment_type = checked.content_type
        appeal.attachment_size = len(checked.data)
    db.session.add(appeal)
    db.session.flush()
    if checked is not None:
        appeal.attachment_file = _store(checked)
    _audit(actor, competition, "appeal.filed", now, appeal, number=number, entrant_id=entrant.id,
           channel=channel.value, attachment=bool(checked))
    db.session.flush()
    return appeal


def _appellant_of(entrant: Entrant) -> str:
    """The team leader: the sign-up's contact person, else the first member, else the entrant's name."""
    if entrant.registration_id:
        from registration.models import Registration

        registration = db.session.get(Registration, entrant.registration_id)
        if registration is not None and registration.contact_name:
            return registration.contact_name[:100]
    members = entrant.members or []
    return (members[0] if members else entrant.name)[:100]


# ---------------------------------------------------------------- who sees and decides


def is_arbitrator(user, competition: Competition) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(sa.select(JudgeProfile.id).where(
        JudgeProfile.competition_id == competition.id, JudgeProfile.user_id == user.id,
        JudgeProfile.role == JudgeRole.ARBITRATOR)) is not None


def arbitration_competitions(user) -> list[Competition]:
    """Competitions where ``user`` sits on the arbitration group (for the judge's home page)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(db.session.scalars(sa.select(Competition).join(
        JudgeProfile, JudgeProfile.competition_id == Competition.id).where(
        JudgeProfile.user_id == user.id, JudgeProfile.role == JudgeRole.ARBITRATOR).order_by(Competition.id)))


def list_appeals(competition: Competition, *, state: AppealState | None = None) -> list[Appeal]:
    query = sa.select(Appeal).where(Appeal.competition_id == competition.id)
    if state is not None:
        query = query.where(Appeal.state == state)
    return list(db.session.scalars(query.order_by(Appeal.number)))


@dataclass
class ScoreLine:
    score_id: int
    round_name: str
    criterion_code: str
    criterion_name: str
    judge_name: str
    value: Decimal | None
    value_text: str
    maximum: str
    ladder: bool


def appeal_scores(appeal: Appeal) -> list[ScoreLine]:
    """The entrant's submitted scores in every round of the competition, for re-checking."""
    from competition.models import Criterion
    from judging.services import plain, value_text

    competition = db.session.get(Competition, appeal.competition_id)
    rows = db.session.execute(
        sa.select(Score, Round, Criterion).join(Round, Round.id == Score.round_id)
        .join(Criterion, Criterion.id == Score.criterion_id)
        .where(Score.entrant_id == appeal.entrant_id, Round.competition_id == competition.id,
               Score.state == ScoreState.SUBMITTED)
        .order_by(Round.position, Round.id, Criterion.position, Criterion.id, Score.judge_id)).all()
    from accounts.models import User

    names = dict(db.session.execute(sa.select(User.id, User.name).where(
        User.id.in_({score.judge_id for score, _r, _c in rows} or {0}))).all())
    return [ScoreLine(score.id, round_.name, criterion.code, criterion.name, names.get(score.judge_id, "?"),
                      score.value, value_text(score.value, criterion, competition) or "",
                      plain(criterion.maximum), criterion.ladder)
            for score, round_, criterion in rows]


@dataclass
class Correction:
    score_id: int
    value: str


def _correction_kwargs() -> dict:
    """``kind="appeal"`` when ``change_submitted_score`` knows kinds (the chief judge's desk adds them)."""
    from judging.services import change_submitted_score

    return {"kind": "appeal"} if "kind" in inspect.signature(change_submitted_score).parameters else {}


def decide_appeal(appeal: Appeal, *, upheld: bool, decision: str, corrections: list[Correction] | None = None,
                  actor, now: datetime) -> Appeal:
    """The arbitration group's final decision. Upheld: ``corrections`` (at least one changed value) are applied
    through the audited path; rejected: ``decision`` is the reason. Refused once decided (``already_decided``)."""
    from judging.services import JudgingError, change_submitted_score, plain

    competition = db.session.get(Competition, appeal.competition_id)
    if not is_arbitrator(actor, competition):
        raise AppealError("not_arbitrator", _("Only the arbitration group (仲裁) of this competition decides appeals."),
                          status=403)
    text = (decision or "").replace("\r\n", "\n").strip()
    if not text:
        raise AppealError("decision_required", _("Write the decision and its reason."), status=422, field="decision")
    if len(text) > DECISION_MAX:
        raise AppealError("decision_too_long", _("Too long: at most %(n)d characters.", n=DECISION_MAX), status=422,
                          field="decision")
    wanted: dict[int, str] = {}
    for item in corrections or []:
        raw = (item.value or "").strip()
        if raw:
            wanted[int(item.score_id)] = raw
    if not upheld and wanted:
        raise AppealError("corrections_on_reject", _("A rejected appeal changes no scores: clear the corrected "
                                                     "values, or uphold the appeal."), status=422)
    scores: dict[int, Score] = {}
    if upheld:
        if wanted:
            found = db.session.scalars(sa.select(Score).join(Round, Round.id == Score.round_id).where(
                Score.id.in_(wanted), Score.entrant_id == appeal.entrant_id,
                Round.competition_id == competition.id, Score.state == ScoreState.SUBMITTED))
            scores = {score.id: score for score in found}
            if set(scores) != set(wanted):
                raise AppealError("unknown_score", _("A corrected score is not one of this entrant's submitted "
                                                     "scores."), status=422)
        changed = {}
        for score_id, raw in wanted.items():
            try:
                number = Decimal(raw)
            except ArithmeticError:
                number = None
            if number is None or not number.is_finite() or number != scores[score_id].value:
                changed[score_id] = raw
        wanted = changed
        if not wanted:
            raise AppealError("no_correction", _("An upheld appeal corrects at least one score: enter the re-checked "
                                                 "value that differs."), status=422)
    state = AppealState.UPHELD if upheld else AppealState.REJECTED
    result = db.session.execute(sa.update(Appeal).where(Appeal.id == appeal.id, Appeal.state == AppealState.OPEN)
                                .values(state=state, decided_at=now, decided_by_id=actor.id, decision=text)
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise AppealError("already_decided", _("This appeal has already been decided; the decision is final."),
                          status=409)
    reason = f"申诉 #{appeal.number}：{text}"[:1000]
    extra = _correction_kwargs()
    applied = []
    for score_id, raw in wanted.items():
        score = scores[score_id]
        old = score.value
        try:
            change = change_submitted_score(score, raw, actor=actor, reason=reason, now=now, **extra)
        except JudgingError as error:
            raise AppealError(f"score_{error.code}", error.message, status=error.status) from None
        db.session.add(AppealCorrection(appeal_id=appeal.id, score_id=score.id, score_change_id=change.id,
                                        old_value=old, new_value=change.new_value, created_at=now))
        applied.append({"score_id": score.id, "old": plain(old), "new": plain(change.new_value)})
    _audit(actor, competition, "appeal.decided", now, appeal, number=appeal.number, entrant_id=appeal.entrant_id,
           decision=state.value, corrections=len(applied))
    db.session.flush()
    db.session.refresh(appeal)
    return appeal


# ---------------------------------------------------------------- the participant's side


@dataclass
class EntrantAppeals:
    """One of a sign-up's entrants, for the manage page: the window, its appeals, and whether one may be filed."""

    entrant: Entrant
    competition: Competition
    window: Window
    appeals: list[Appeal] = field(default_factory=list)
    remaining: int = 0

    @property
    def can_file(self) -> bool:
        return self.window.open and self.remaining > 0


def entrants_of_registration(registration_id: int) -> list[Entrant]:
    return list(db.session.scalars(sa.select(Entrant).where(Entrant.registration_id == registration_id)
                                   .order_by(Entrant.competition_id)))


def registration_appeals(registration_id: int, now: datetime) -> list[EntrantAppeals]:
    """Per competition the sign-up entered: shown when the results are provisional or an appeal exists."""
    shown = []
    for entrant in entrants_of_registration(registration_id):
        competition = db.session.get(Competition, entrant.competition_id)
        appeals = appeals_of_entrant(entrant)
        window = appeal_window(competition, now)
        if not appeals and window.code in ("not_published", "final", "no_deadline"):
            continue
        allowed = settings_of(competition).appeals_per_entrant
        shown.append(EntrantAppeals(entrant, competition, window, appeals, max(allowed - len(appeals), 0)))
    return shown
