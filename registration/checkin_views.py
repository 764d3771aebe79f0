"""The check-in staff's scanner page (phone first): camera / photo / typed-code scanning, offline queue, search by
hand and undo. The page only renders; every check-in goes through the JSON API in ``api.checkins``."""
from __future__ import annotations

from flask import abort, render_template, url_for
from flask_login import current_user, login_required

from accounts.permissions import can_check_in
from events.views import get_event_for_staff
from registration.models import RegistrationKind
from registration.services import get_settings
from registration.views import bp


@bp.route("/manage/events/<int:event_id>/checkin")
@login_required
def scanner(event_id: int):
    event = get_event_for_staff(event_id)  # no role in the event's organization: 404
    if not can_check_in(current_user, event):
        abort(403)
    api = {
        "checkin": url_for("api.create_checkin", event_id=event.id),
        "undo": url_for("api.undo_checkin", event_id=event.id),
        "roster": url_for("api.checkin_roster", event_id=event.id),
        "search": url_for("api.search_checkin", event_id=event.id),
        "walkin": url_for("api.create_walk_in", event_id=event.id),
    }
    settings = get_settings(event)
    walk_ins = settings.kind != RegistrationKind.TEAM  # a team cannot be typed in at the door
    return render_template("registration/scanner.html", event=event, api=api, walk_ins=walk_ins,
                           groups=settings.groups or [])


@bp.route("/manage/events/<int:event_id>/checkin/live")
@login_required
def live(event_id: int):
    """Organizers' live view: checked in / expected per place, arrivals per five minutes, who has not arrived.
    With ``?partial=1`` only the figures (static/js/live-refresh.js swaps them in every 10 seconds)."""
    from flask import request
    from flask_babel import gettext as _

    from events.views import get_managed_event
    from registration.checkin import list_not_arrived, live_figures

    event = get_managed_event(event_id)
    places = live_figures(event, whole_event_title=_("Whole event"))
    keys = {p.key for p in places}
    selected = request.args.get("place", type=int, default=0)
    if selected not in keys:
        selected = 0
    missing, missing_total = list_not_arrived(event, selected)
    context = dict(event=event, places=places, selected=selected, missing=missing, missing_total=missing_total)
    if request.args.get("partial"):
        return render_template("registration/_live_figures.html", **context)
    return render_template("registration/live.html", **context)
