"""Statistics pages: an organization's year or half year, and one event. Organizers and admins only."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.models import Organization
from accounts.permissions import can_manage_organization, organizations_managed_by, roles_in_organization
from core.models import record_audit
from core.templating import kind_names
from core.types import utcnow
from events.views import get_managed_event
from extensions import db
from registration.spreadsheets import XLSX_MIME
from stats import services, summary, workbook

bp = Blueprint("stats", __name__, url_prefix="/manage")


def _organization(organization_id: int) -> Organization:
    """404 without any role in the organization, 403 without a managing one."""
    organization = db.session.get(Organization, organization_id)
    if organization is None or not roles_in_organization(current_user, organization):
        abort(404)
    if not can_manage_organization(current_user, organization):
        abort(403)
    return organization


def _counted(organization: Organization) -> list[Organization]:
    """The organization and those of its branches the user may manage (an organizer of the association alone does
    not see the branches' events; an admin does)."""
    return [o for o in services.with_descendants(organization)
            if o.id == organization.id or can_manage_organization(current_user, o)]


def _period_or_error(organization: Organization):
    year = request.args.get("year") or str(services.local_date(utcnow()).year)
    try:
        return services.period_for(year, request.args.get("half"))
    except services.StatsError as error:
        return render_template("stats/error.html", organization=organization, message=error.message), error.status


def _locale() -> str:
    return str(get_locale() or "zh_Hans")


@bp.route("/stats/")
@login_required
def index():
    organizations = organizations_managed_by(current_user)
    if not organizations:
        abort(403)
    if len(organizations) == 1:
        return redirect(url_for("stats.period", organization_id=organizations[0].id))
    return render_template("stats/index.html", organizations=organizations)


@bp.route("/stats/organizations/<int:organization_id>")
@login_required
def period(organization_id: int):
    organization = _organization(organization_id)
    found = _period_or_error(organization)
    if not isinstance(found, services.Period):
        return found
    stats = services.period_stats(organization, _counted(organization), found)
    text = summary.summary(stats, _locale())
    kinds = kind_names()
    charts = {
        "kinds": {"labels": [kinds[k] for k, _n in stats.by_kind], "values": [n for _k, n in stats.by_kind],
                  "label": _("Events held")},
        "months": {"labels": [_("Month %(m)d", m=m.month) for m in stats.months],
                   "series": [{"label": _("Persons signed up (人次)"), "values": [m.persons for m in stats.months]},
                              {"label": _("Persons checked in (人次)"),
                               "values": [m.attended_persons for m in stats.months]}]},
        "people": {"labels": [_("First time"), _("Returning")], "values": [stats.first_time, stats.returning]},
        "awards": {"labels": [t for t, _n in stats.awards], "values": [n for _t, n in stats.awards],
                   "label": _("Awards")},
    }
    this_year = services.local_date(utcnow()).year
    years = sorted({this_year, this_year - 1, this_year - 2, found.year}, reverse=True)
    return render_template("stats/period.html", stats=stats, summary_text=text, charts=charts, years=years,
                           kinds=kinds, state_names=workbook.state_names())


@bp.route("/stats/organizations/<int:organization_id>/export.xlsx")
@login_required
def period_export(organization_id: int):
    organization = _organization(organization_id)
    found = _period_or_error(organization)
    if not isinstance(found, services.Period):
        return found
    stats = services.period_stats(organization, _counted(organization), found)
    content = workbook.period_workbook(stats, summary.summary(stats, _locale()))
    record_audit(actor=current_user, organization_id=organization.id, action="stats.export", obj=organization,
                 now=utcnow(), year=found.year, half=found.half)
    db.session.commit()
    half = {None: "", 1: "-H1", 2: "-H2"}[found.half]
    return send_file(BytesIO(content), mimetype=XLSX_MIME, as_attachment=True,
                     download_name=f"{organization.name}-{found.year}{half}-统计.xlsx")


@bp.route("/events/<int:event_id>/stats")
@login_required
def event(event_id: int):
    event = get_managed_event(event_id)
    stats = services.event_stats(event, now=utcnow())
    statuses = workbook.status_names()
    charts = {
        "over_time": {"labels": [d.day.strftime("%m-%d") for d in stats.over_time],
                      "series": [{"label": _("Sign-ups so far"), "values": [d.cumulative for d in stats.over_time]}]},
        "status": {"labels": [statuses[s] for s, _n in stats.by_status], "values": [n for _s, n in stats.by_status]},
        "units": {"labels": [u for u, _n in stats.by_unit], "values": [n for _u, n in stats.by_unit],
                  "label": _("Confirmed sign-ups")},
        "groups": {"labels": [g for g, _n in stats.by_group], "values": [n for _g, n in stats.by_group],
                   "label": _("Confirmed sign-ups")},
        "sessions": {"labels": [s.title or _("The event itself") for s in stats.sessions],
                     "values": [float(s.rate) if s.rate is not None else 0 for s in stats.sessions],
                     "label": _("Check-in rate (%)"), "percent": True},
        "people": {"labels": [_("First time"), _("Returning")], "values": [stats.first_time, stats.returning]},
    }
    return render_template("stats/event.html", event=event, stats=stats, charts=charts, statuses=statuses,
                           state_names=workbook.state_names(),
                           event_year=services.local_date(event.starts_at, event.timezone).year)


@bp.route("/events/<int:event_id>/stats/export.xlsx")
@login_required
def event_export(event_id: int):
    event = get_managed_event(event_id)
    stats = services.event_stats(event, now=utcnow())
    content = workbook.event_workbook(stats)
    record_audit(actor=current_user, organization_id=event.organization_id, action="stats.export", obj=event,
                 now=utcnow())
    db.session.commit()
    return send_file(BytesIO(content), mimetype=XLSX_MIME, as_attachment=True,
                     download_name=f"{event.title}-统计.xlsx")


@bp.app_template_global("can_see_stats")
def can_see_stats(user) -> bool:
    """Whether the navigation shows 统计: the user manages some organization (admin or organizer)."""
    return bool(getattr(user, "is_authenticated", False) and organizations_managed_by(user))
