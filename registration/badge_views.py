"""Name badges (胸卡) of an event, for its organizers: a form (which fields, layout, title line, QR code, whose
badges) and the PDF. Layout and fitting live in registration.badges; this module reads the database and the
request, and says in words what cannot be done."""
from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

import sqlalchemy as sa
from flask import current_app, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from core.database import run_write
from core.types import utcnow
from events.models import Event
from events.views import get_managed_event
from extensions import db
from registration import badges, services
from registration.fields import PERSONAL_BY_DEFAULT, FieldKind
from registration.models import Registration, RegistrationKind, RegistrationState
from registration.organizer_views import ListFilters
from registration.ticket_pdf import DEFAULT_FONT_PATH, FONT_PACKAGE, TicketFontError
from registration.tickets import ticket_token
from registration.views import bp

MAX_BADGES = 2000  # badges in one PDF (about 500 A4 sheets at 4 per sheet)
MAX_LISTED = 20  # people named in a warning

FIELD_LABELS = {
    "unit": _l("Unit"), "role": _l("Role"), "team": _l("Team"), "group": _l("Group"), "job_title": _l("Job title"),
    "sessions": _l("Sessions"), "number": _l("Sign-up number"),
}
ROLE_LABELS = {"leader": _l("Leader"), "member": _l("Member"), "coach": _l("Coach")}
OPTION_MESSAGES = {
    "unknown_field": _l("“%(value)s” is not a field that badges can show."),
    "unknown_layout": _l("Unknown layout “%(value)s”: choose 4 or 8 badges per sheet."),
    "bad_ids": _l("Not sign-up numbers: %(value)s."),
    "too_many_ids": _l("At most %(value)s sign-ups at a time."),
    "unknown_group": _l("This event has no group “%(value)s”."),
    "unknown_session": _l("This event has no session number %(value)s."),
    "title_too_long": _l("The title line has at most %(value)s characters."),
    "bad_qr": _l("Choose whether the badges show the QR code."),
}
# Custom questions whose answers are personal data never go on a badge (a badge is worn in public).
NEVER_ON_BADGES = set(PERSONAL_BY_DEFAULT)


@dataclass
class BadgeRequest:
    """What the form shows and the PDF prints, from the query string."""

    event: Event
    offered: list[tuple[str, str]]  # (field key, label), in printing order
    groups: list[str]
    options: badges.BadgeOptions
    errors: list[str] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    not_approved: int = 0  # ticked sign-ups that are not approved (no badge)
    badges: list[badges.Badge] = field(default_factory=list)
    missing: list[tuple[str, list[str]]] = field(default_factory=list)  # (person, characters the font lacks)
    font_problem: str | None = None

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.offered)


def _offered_fields(event: Event, settings, groups: list[str]) -> list[tuple[str, str]]:
    """The fields this event's badges can show, in printing order. No phone, e-mail or ID number, ever."""
    team = settings.kind == RegistrationKind.TEAM
    offered = [("unit", str(FIELD_LABELS["unit"]))]
    if team:
        offered += [("role", str(FIELD_LABELS["role"])), ("team", str(FIELD_LABELS["team"]))]
    if groups:
        offered.append(("group", str(FIELD_LABELS["group"])))
    if settings.ask_job_title:
        offered.append(("job_title", str(FIELD_LABELS["job_title"])))
    if event.sessions:
        offered.append(("sessions", str(FIELD_LABELS["sessions"])))
    for question in services.list_fields(event.id):
        if question.personal or FieldKind(question.kind) in NEVER_ON_BADGES:
            continue
        offered.append((f"{badges.CUSTOM_PREFIX}{question.key}", question.label))
    offered.append(("number", str(FIELD_LABELS["number"])))
    return offered


def _groups(event: Event, settings) -> list[str]:
    used = db.session.scalars(
        sa.select(Registration.group_name).where(Registration.event_id == event.id, Registration.group_name.is_not(None))
        .distinct()
    )
    return list(settings.groups or []) + sorted(set(used) - set(settings.groups or []))


def _font_path() -> str:
    return current_app.config.get("TICKET_PDF_FONT") or DEFAULT_FONT_PATH


def _font_message() -> str:
    return _("Badges cannot be made right now: the server lacks the Chinese font they need. (For the administrator: "
             "install the %(package)s package, or set TICKET_PDF_FONT to a TrueType font file.)", package=FONT_PACKAGE)


def read_request(event: Event) -> BadgeRequest:
    """Check the query string against this event; select the approved sign-ups and build their badges."""
    settings = services.get_settings(event)
    groups = _groups(event, settings)
    offered = _offered_fields(event, settings, groups)
    defaults = ("unit", "role", "group")
    options, problems = badges.read_options(
        request.args, offered=[key for key, _label in offered], default_fields=defaults, default_title=event.title,
        groups=set(groups), session_ids={s.id for s in event.sessions},
    )
    page = BadgeRequest(event=event, offered=offered, groups=groups, options=options)
    page.errors = [str(OPTION_MESSAGES[p.code]) % {"value": p.value} for p in problems]

    query = sa.select(Registration).where(Registration.event_id == event.id)
    if options.ids is not None:
        found = dict(db.session.execute(
            sa.select(Registration.id, Registration.status)
            .where(Registration.event_id == event.id, Registration.id.in_(options.ids))
        ).all())
        foreign = [i for i in options.ids if i not in found]
        if foreign:
            shown = ", ".join(f"#{i}" for i in foreign[:MAX_LISTED]) + (" …" if len(foreign) > MAX_LISTED else "")
            page.errors.append(_("Not sign-ups of this event: %(ids)s.", ids=shown))
        page.not_approved = sum(1 for status in found.values() if status != RegistrationState.APPROVED)
        query = query.where(Registration.id.in_(options.ids))
    query = ListFilters(group=options.group or "", session=options.session).apply(query)
    page.registrations = list(db.session.scalars(
        query.where(Registration.status == RegistrationState.APPROVED).order_by(Registration.id)
        .options(selectinload(Registration.members), selectinload(Registration.sessions))
    ))
    labels = {key: label for key, label in offered}
    roles = {key: str(label) for key, label in ROLE_LABELS.items()}
    sessions = {s.id: s.title for s in event.sessions}
    for registration in page.registrations:
        page.badges += badges.badges_for(registration, options, token=ticket_token(registration), labels=labels,
                                         role_labels=roles, session_titles=sessions)
    try:
        covered = badges.font_codepoints(_font_path())
    except TicketFontError as error:
        current_app.logger.error("Badges: font %s is %s; install the %s package or set TICKET_PDF_FONT",
                                 error.path, error.reason, FONT_PACKAGE)
        page.font_problem = _font_message()
    else:
        for badge in page.badges:
            lacking = badges.missing_characters(badge.texts(), covered)
            if lacking:
                page.missing.append((badge.name, lacking))
        title_lacking = badges.missing_characters([options.title], covered)
        if title_lacking:
            page.missing.insert(0, (_("Title line"), title_lacking))
    return page


def _selection_text(page: BadgeRequest) -> str:
    options = page.options
    if options.ids is None:
        who = _("All approved sign-ups")
    else:
        who = ngettext("The %(num)d sign-up ticked in the list", "The %(num)d sign-ups ticked in the list",
                       len(options.ids))
    narrowing = []
    if options.group:
        narrowing.append(f"{_('Group')}：{options.group}")
    if options.session:
        narrowing.append(f"{_('Session')}：" + next(s.title for s in page.event.sessions if s.id == options.session))
    return " · ".join([who, *narrowing])


def _render_form(page: BadgeRequest, status: int = 200, errors: list[str] | None = None):
    options = page.options
    people = len(page.badges)
    return render_template(
        "registration/badges.html", event=page.event, page=page, options=options, offered=page.offered,
        groups=page.groups, errors=errors if errors is not None else page.errors, selection=_selection_text(page),
        people=people, sheets=badges.pages_needed(people, options.layout), listed=MAX_LISTED,
        ids_value=",".join(str(i) for i in options.ids) if options.ids is not None else None,
        layouts=badges.LAYOUTS, max_title=badges.MAX_TITLE,
    ), status


@bp.route("/manage/events/<int:event_id>/badges")
@login_required
def badges_form(event_id: int):
    """The badge form: what to print, how, and for whom; with how many badges and sheets that makes."""
    event = get_managed_event(event_id)
    page = read_request(event)
    return _render_form(page, 400 if page.errors else 200)


def _download_name(event: Event) -> str:
    title = "".join(c for c in event.title if c not in '\\/:*?"<>|\r\n\t').strip()[:60] or f"event-{event.id}"
    return f"{title}-胸卡.pdf"


@bp.route("/manage/events/<int:event_id>/badges.pdf")
@login_required
def badges_pdf(event_id: int):
    """The badges as a PDF. Bad choices, or nothing to print: the form again, saying why. Each download is
    logged (badges carry names and units)."""
    from core.models import record_audit

    event = get_managed_event(event_id)
    page = read_request(event)
    if page.errors:
        return _render_form(page, 400)
    if not page.badges:
        return _render_form(page, 400, [_("No approved sign-ups match these choices: there is nothing to print.")])
    if len(page.badges) > MAX_BADGES:
        return _render_form(page, 400, [_("That makes %(n)d badges; one PDF holds at most %(max)d. Print them by "
                                          "group or by session.", n=len(page.badges), max=MAX_BADGES)])
    if page.font_problem:
        return render_template("errors/generic.html", status=503, message=page.font_problem), 503
    options = page.options
    try:
        pdf = badges.render_badges_pdf(page.badges, layout=options.layout, title=options.title,
                                       font_path=_font_path(), document_title=f"{_('Name badges')} · {event.title}",
                                       author=event.organization.name)
    except TicketFontError as error:
        current_app.logger.error("Badges: font %s is %s", error.path, error.reason)
        return render_template("errors/generic.html", status=503, message=_font_message()), 503

    def work():
        record_audit(actor=current_user, organization_id=event.organization_id, action="registration.badges",
                     obj=event, now=utcnow(), badges=len(page.badges), registrations=len(page.registrations),
                     fields=["name", *options.fields], layout=options.layout.key, qr=options.qr,
                     ids=len(options.ids) if options.ids is not None else None, group=options.group,
                     session=options.session)
        db.session.commit()

    run_write(db.session, work)
    response = send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=_download_name(event))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def badges_url(event_id: int, ids: list[int]) -> str:
    """The badge form with these sign-ups preselected (the list's bulk action leads here)."""
    return url_for("registration.badges_form", event_id=event_id, ids=",".join(str(i) for i in ids))
