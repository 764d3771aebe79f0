"""Report downloads for the chief judge and the organizers (``/reports/events/<event_id>/competitions/<id>/…``):
the 成绩单 PDF per panel and round, the review and appeal log PDF, the audit trail as Excel. The event's organizers
and the competition's chief judge (裁判长) may download them; anyone else with a role in the event gets 403, without
one 404. Every download is logged."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.permissions import can_manage_event, can_see_event_admin
from competition.models import Competition
from core.models import record_audit
from core.types import utcnow
from events.models import Event
from extensions import db
from judging import reports
from judging.models import JudgeProfile, JudgeRole, Panel

bp = Blueprint("judging_reports", __name__)
BASE = "/reports/events/<int:event_id>/competitions/<int:competition_id>"


def _competition(event_id: int, competition_id: int) -> Competition:
    event = db.session.get(Event, event_id)
    if event is None or not can_see_event_admin(current_user, event):
        abort(404)
    competition = db.session.get(Competition, competition_id)
    if competition is None or competition.event_id != event.id:
        abort(404)
    if not (can_manage_event(current_user, event) or is_chief(current_user, competition)):
        abort(403)
    return competition


def is_chief(user, competition: Competition) -> bool:
    return getattr(user, "is_authenticated", False) and db.session.query(JudgeProfile.id).filter_by(
        competition_id=competition.id, user_id=user.id, role=JudgeRole.CHIEF).first() is not None


def _log(competition: Competition, what: str) -> None:
    """Downloads are logged without naming the competition in ``competition_id`` (so the results' version is not
    bumped by a download); ``report_competition_id`` names it."""
    record_audit(actor=current_user, organization_id=competition.event.organization_id, action="judging.report",
                 obj=competition, now=utcnow(), report=what, report_competition_id=competition.id)
    db.session.commit()


def _font_path() -> str:
    from core.pdf import DEFAULT_FONT_PATH

    return current_app.config.get("TICKET_PDF_FONT") or DEFAULT_FONT_PATH


def _pdf(render, filename: str, back: str):
    try:
        data = render(_font_path())
    except reports.ReportFontError:
        flash(_("The Chinese font for PDFs is not installed on the server (package fonts-lxgw-wenkai)."), "error")
        return redirect(back)
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route(BASE)
@login_required
def index(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    panels = list(db.session.query(Panel).filter_by(competition_id=competition.id).order_by(Panel.round_id, Panel.id))
    rounds = {r.id: r for r in competition.rounds}
    return render_template("judging/reports.html", event=competition.event, competition=competition, panels=panels,
                           rounds=rounds)


@bp.route(BASE + "/panels/<int:panel_id>/score-sheet.pdf")
@login_required
def score_sheet(event_id: int, competition_id: int, panel_id: int):
    competition = _competition(event_id, competition_id)
    panel = db.session.get(Panel, panel_id)
    if panel is None or panel.competition_id != competition.id:
        abort(404)
    sheet = reports.score_sheet(panel, now=utcnow())
    organization = competition.event.organization.name
    response = _pdf(lambda font: reports.score_sheet_pdf(sheet, font_path=font, organization=organization),
                    f"score-sheet-{competition.id}-{panel.id}.pdf",
                    url_for("judging_reports.index", event_id=event_id, competition_id=competition_id))
    _log(competition, f"score_sheet:{panel.id}")
    return response


@bp.route(BASE + "/log.pdf")
@login_required
def log(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    content = reports.log_content(competition, now=utcnow())
    organization = competition.event.organization.name
    response = _pdf(lambda font: reports.log_pdf(content, font_path=font, organization=organization),
                    f"review-appeal-log-{competition.id}.pdf",
                    url_for("judging_reports.index", event_id=event_id, competition_id=competition_id))
    _log(competition, "log")
    return response


@bp.route(BASE + "/audit.xlsx")
@login_required
def audit(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    data = reports.audit_workbook(competition)
    _log(competition, "audit")
    response = make_response(data)
    response.headers["Content-Type"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{competition.id}.xlsx"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
