"""Who gets what on every URL of the app: one row per endpoint in ACCESS, one test per (endpoint, method, role).

``test_every_endpoint_is_listed`` walks ``app.url_map``: a route without a row here fails it, so whoever adds a
route also decides, here, who may open it. URL parameters are filled from ``world`` through ``url_values``; a
route with a parameter it does not know fails with a message saying where to add it.

Expected answers:
- an int: that status (a 302 must then point somewhere other than the login page);
- ``LOGIN``: a redirect to ``/login?next=<the requested path>`` (anonymous visitors on pages).
Under ``/api/`` (and for the few JSON_ENDPOINTS read by a page's script) every error is JSON
``{"error": {"code", "message"}}``; elsewhere it is an HTML page. Never a 500.

Roles (see ``world``): anonymous; participant (logged in, no membership); staff (check-in staff of org A, for
event A only); judge (judge of org A); organizer (organizer of org A); other (organizer of org B); admin (admin
of org A). Event A belongs to org A; it is published and has one session, one approved sign-up and one custom
question on its sign-up form. Org B has the same (event B), for the tenant-isolation tests.

Requests run through conftest's test client: each in its own application context, so that nothing (``g``, the
database session) carries over from one request to the next, as in production.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import NOW, Factory, build_once

ROLES = ("anonymous", "participant", "staff", "judge", "organizer", "other", "admin")
LOGIN = "login"  # 302 to /login?next=<path>
IGNORED_ENDPOINTS = {"static"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# JSON read by a page's script outside /api/: their errors are JSON too (the desk's progress matrix)
JSON_ENDPOINTS = {"desk.progress"}


def expect(default=None, **codes) -> dict[str, int | str]:
    """A row for one method: role -> expected answer. ``default`` fills the roles not named."""
    unknown = set(codes) - set(ROLES)
    assert not unknown, f"unknown roles in ACCESS: {unknown}"
    row = {role: codes.get(role, default) for role in ROLES}
    missing = [role for role, code in row.items() if code is None]
    assert not missing, f"ACCESS row without an answer for {missing}"
    return row


def everyone(code: int) -> dict[str, int | str]:
    return expect(code)


def signed_in(code: int, anonymous=LOGIN) -> dict[str, int | str]:
    """Any logged-in user gets ``code``; anonymous visitors go to the login page (or get 401 under /api)."""
    return expect(code, anonymous=anonymous)


def event_staff(*, manage: int, staff: int, anonymous=LOGIN) -> dict[str, int | str]:
    """A page of event A: 404 without any role in org A (it must not leak that the event exists), ``staff`` for
    check-in staff and judges (some role, not a managing one), ``manage`` for organizers and admins."""
    return expect(anonymous=anonymous, participant=404, other=404, staff=staff, judge=staff, organizer=manage,
                  admin=manage)


def checkin_staff(code: int) -> dict[str, int | str]:
    """A check-in route of event A (JSON API): ``code`` for check-in staff, organizers and admins, 403 for a judge
    (a role in the event, not this one), 404 without any role, 401 for anonymous callers."""
    return expect(anonymous=401, participant=404, other=404, judge=403, staff=code, organizer=code, admin=code)


# Every route; GET always (405 where the route does not take it), plus each write method the route takes.
# POSTs carry a valid CSRF token and an otherwise empty body (JSON {} under /api).
ACCESS: dict[str, dict[str, dict[str, int | str]]] = {
    # ---------------------------------------------------------------- public pages
    "public_events.index": {"GET": everyone(200)},
    "public_events.public_page": {"GET": everyone(200)},
    # ---------------------------------------------------------------- accounts
    # Logged-in users are sent on from the login page; an empty login form is shown again with its errors.
    "accounts.login": {"GET": expect(302, anonymous=200), "POST": expect(302, anonymous=200)},
    "accounts.logout": {"GET": everyone(405), "POST": everyone(302)},
    "accounts.change_password": {"GET": signed_in(200), "POST": signed_in(200)},
    "accounts.profile": {"GET": signed_in(200)},
    "accounts.create_token": {"GET": everyone(405), "POST": signed_in(422)},
    # token_id is the user's own token: revoked, then back to the profile.
    "accounts.revoke_token": {"GET": everyone(405), "POST": signed_in(302)},
    "accounts.set_language": {"GET": everyone(405), "POST": everyone(302)},
    # ---------------------------------------------------------------- organizer pages
    "events.dashboard": {"GET": signed_in(200)},
    # Creating needs an organizer or admin role somewhere (org B's organizer creates in org B); an empty form is 422.
    "events.create_event": {
        "GET": expect(403, anonymous=LOGIN, organizer=200, other=200, admin=200),
        "POST": expect(403, anonymous=LOGIN, organizer=422, other=422, admin=422),
    },
    "events.detail": {"GET": event_staff(manage=200, staff=200)},
    "events.edit_event": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "events.publish_event": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "events.unpublish_event": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "events.archive_event": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "events.create_session": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "events.edit_session": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "events.delete_session": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # ---------------------------------------------------------------- registration (报名)
    # Signing up is public; an empty sign-up form is shown again with its errors.
    "registration.signup": {"GET": everyone(200), "POST": everyone(422)},
    # key is the secret of the "manage my sign-up" link: whoever holds it may see, print and cancel that sign-up.
    "registration.manage": {"GET": everyone(200)},
    "registration.ticket_png": {"GET": everyone(200)},
    "registration.ticket_pdf": {"GET": everyone(200)},
    # Changing a sign-up: an empty form is shown again with its errors.
    "registration.edit": {"GET": everyone(200), "POST": everyone(422)},
    # Finding a lost link by phone and name is public (rate-limited); an empty form is shown again with its errors.
    "registration.find": {"GET": everyone(200), "POST": everyone(422)},
    "registration.cancel": {"GET": everyone(405), "POST": everyone(302)},
    "registration.organizer_list": {"GET": event_staff(manage=200, staff=403)},
    "registration.organizer_detail": {"GET": event_staff(manage=200, staff=403)},
    "registration.approve": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "registration.reject": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # Nothing ticked: back to the list with a message.
    "registration.bulk_action": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # The export holds phone and ID numbers: organizers only (each export is logged).
    "registration.export_registrations": {"GET": event_staff(manage=200, staff=403)},
    "registration.import_template": {"GET": event_staff(manage=200, staff=403)},
    # An upload without a file is shown again with its error; a confirmation without a kept upload goes back.
    "registration.import_registrations": {"GET": event_staff(manage=200, staff=403),
                                          "POST": event_staff(manage=422, staff=403)},
    "registration.import_confirm": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # The sign-up form builder and settings: organizers only; an empty form is shown again with its errors, and
    # deleting or moving a question goes back to the builder. field_id is a question of event A.
    "registration.form_builder": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "registration.edit_field": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "registration.delete_field": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # the scanner page: check-in staff, organizers and admins; a judge has a role but not this one
    "registration.scanner": {"GET": expect(anonymous=LOGIN, participant=404, other=404, judge=403, staff=200, organizer=200, admin=200)},
    # the organizers' live check-in view: staff scan, organizers watch
    "registration.live": {"GET": event_staff(manage=200, staff=403)},
    # name badges (胸卡): organizers only; the PDF of event A's one approved sign-up, each download logged
    "registration.badges_form": {"GET": event_staff(manage=200, staff=403)},
    "registration.badges_pdf": {"GET": event_staff(manage=200, staff=403)},
    "registration.move_field": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "registration.settings": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    # ---------------------------------------------------------------- messages (the outbox): organizers only.
    # message_id: the "sign-up received" message of the event's sign-up (no e-mail address: a retry is refused with
    # a message and goes back to the message's page). Empty forms are shown again with their errors (422).
    "notifications.outbox": {"GET": event_staff(manage=200, staff=403)},
    "notifications.message_detail": {"GET": event_staff(manage=200, staff=403)},
    "notifications.retry": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "notifications.retry_failed": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "notifications.templates": {"GET": event_staff(manage=200, staff=403)},
    "notifications.edit_template": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "notifications.reset_template": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "notifications.reminder": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "notifications.bulk_message": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    # ---------------------------------------------------------------- JSON API
    "api.list_events": {"GET": signed_in(200, anonymous=401)},
    "api.get_event": {"GET": event_staff(manage=200, staff=200, anonymous=401)},
    # Check-in at the door: check-in staff, organizers and admins; a judge has a role but not this one. An empty
    # scan is 422; an undo with nothing to undo is 409.
    "api.create_checkin": {"GET": everyone(405), "POST": checkin_staff(422)},
    "api.undo_checkin": {"GET": everyone(405), "POST": checkin_staff(409)},
    "api.checkin_roster": {"GET": checkin_staff(200)},
    "api.search_checkin": {"GET": checkin_staff(200)},
    # ---------------------------------------------------------------- competitions (赛项) set-up: organizers and
    # admins only; check-in staff and judges 403. competition_id etc. name the world's competition of the event (one
    # round with a rubric, two groups, three entrants). Empty forms are shown again with their errors (422); one-button
    # actions go back to their page with a message (302), also when refused (a group with entrants, no draw yet).
    "competition.index": {"GET": event_staff(manage=200, staff=403)},
    "competition.create": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "competition.detail": {"GET": event_staff(manage=200, staff=403)},
    "competition.edit": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "competition.add_group": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "competition.edit_group": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "competition.delete_group": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "competition.create_round": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "competition.edit_round": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "competition.delete_round": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "competition.start_scoring": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "competition.rubric": {"GET": event_staff(manage=200, staff=403)},
    "competition.add_module": {"GET": everyone(405), "POST": event_staff(manage=422, staff=403)},
    "competition.edit_module": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "competition.delete_module": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "competition.create_criterion": {"GET": event_staff(manage=200, staff=403),
                                     "POST": event_staff(manage=422, staff=403)},
    "competition.edit_criterion": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "competition.delete_criterion": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "competition.entrants": {"GET": event_staff(manage=200, staff=403)},
    "competition.add_from_signups": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "competition.create_entrant": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "competition.edit_entrant": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "competition.delete_entrant": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "competition.roll_call": {"GET": event_staff(manage=200, staff=403)},
    "competition.set_roll_call": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "competition.roll_call_scan": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # the draw and its sealed mapping: organizers only
    "competition.draw_page": {"GET": event_staff(manage=200, staff=403)},
    "competition.do_draw": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # the export holds phone numbers: organizers only, logged
    "competition.workbook_template": {"GET": event_staff(manage=200, staff=403)},
    "competition.workbook_export": {"GET": event_staff(manage=200, staff=403)},
    "competition.workbook_import": {"GET": event_staff(manage=200, staff=403),
                                    "POST": event_staff(manage=422, staff=403)},
    "competition.workbook_confirm": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # ---------------------------------------------------------------- results (issue 8): organizers and admins;
    # check-in staff and judges 403. One-button actions go back to the board with a message (302), also when refused
    # (unpublish while not published, lots while the chain ends in shared ranks, a tie that does not exist). An
    # empty settings or award form is shown again with its errors (422); empty completion times change nothing (302).
    "results.board": {"GET": event_staff(manage=200, staff=403)},
    "results.board_fragment": {"GET": event_staff(manage=200, staff=403)},
    "results.version": {"GET": event_staff(manage=200, staff=403)},
    "results.publish": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "results.unpublish": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "results.freeze": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "results.unfreeze": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "results.mark_final": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "results.mark_provisional": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "results.settings": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "results.draw_lots": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "results.decide_tie": {"GET": event_staff(manage=302, staff=403), "POST": event_staff(manage=302, staff=403)},
    "results.revoke_decision": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "results.override_award": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "results.times": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=302, staff=403)},
    # exports carry names and units: organizers only, each download logged
    "results.export": {"GET": event_staff(manage=200, staff=403)},
    "results.pdf": {"GET": event_staff(manage=200, staff=403)},
    # the ranking history: organizers, admins and the competition's chief judges (the world's judge is not one)
    "results.history": {"GET": event_staff(manage=200, staff=403)},
    # public results of a published event, the big screen and the leaderboard API: anyone (what they show depends
    # on the results state; tests/competition/test_no_leaks.py walks them)
    "results_public.page": {"GET": everyone(200)},
    "results_public.fragment": {"GET": everyone(200)},
    "results_public.board_json": {"GET": everyone(200)},
    "results_public.screen": {"GET": everyone(200)},
    "api.leaderboard": {"GET": everyone(200)},
    "api.leaderboard_version": {"GET": everyone(200)},
    # a walk-in (sign up and check in at the door): an empty body is 422
    "api.create_walk_in": {"GET": everyone(405), "POST": checkin_staff(422)},
    # ---------------------------------------------------------------- judging (issue 6): organizers manage judges,
    # panels and assignments (staff and judges 403). profile_id / panel_id / member_id name the world's judge (role
    # "judge": a judge of event A's competition) on a panel with the first group's entrants assigned. Empty forms are
    # shown again (422); one-button actions go back with a message (302), also when refused (the world's judge has a
    # password: no new invitation link).
    "judging.judges": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "judging.edit_judge": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "judging.invite_judge": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "judging.remove_judge": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "judging.panels": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "judging.panel": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "judging.delete_panel": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "judging.add_panel_judge": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "judging.panel_judge_share": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "judging.remove_panel_judge": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "judging.assign": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "judging.apply_suggestion": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "judging.round_settings": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # The judge's pages: their rounds (anyone logged in; empty without assignments) and the tablet page of a round in
    # which they judge: only the world's judge; others with a role in event A 403 (judges see only their own).
    "judging.home": {"GET": signed_in(200)},
    # a judge declares more units (回避) for a competition they judge: an empty declaration goes back with a message
    "judging.declare_units": {"GET": everyone(405), "POST": expect(anonymous=LOGIN, participant=404, other=404,
                                                                   staff=403, judge=302, organizer=403, admin=403)},
    "judging.tablet": {"GET": expect(anonymous=LOGIN, participant=404, other=404, staff=403, judge=200, organizer=403,
                                     admin=403)},
    # An invitation link (its secret is the credential): the password form for anyone; an empty form is 422.
    "judging.accept_invitation": {"GET": everyone(200), "POST": everyone(422)},
    # Scores from tablets (JSON): judges of the round only. PUT names its round in the body, so an empty body is 422
    # for anyone logged in; the sheet and submitting check the round first (submit without a nonce: 422).
    "api.put_score": {"GET": everyone(405), "PUT": signed_in(422, anonymous=401)},
    "api.judge_sheet": {"GET": expect(anonymous=401, participant=404, other=404, staff=403, judge=200, organizer=403,
                                      admin=403)},
    "api.submit_entrant": {"GET": everyone(405), "POST": expect(anonymous=401, participant=404, other=404, staff=403,
                                                                judge=422, organizer=403, admin=403)},
    # ---------------------------------------------------------------- submitted works and defense batches (issue 6).
    # work_id: a PDF of an entrant made from event A's sign-up (key); batch_id: the round's one defense batch. The
    # organizers' pages: empty forms are shown again (422), one-button actions go back (302; a batch with entrants is
    # not deleted). A work is served to organizers and to judges assigned its entrant once its code is drawn (the
    # world draws none: the judge gets 404, as everyone else; tests/competition/test_works_views.py has the judge's
    # 200). The sign-up's secret link (key) opens its own works: an empty upload is 422.
    "works.index": {"GET": event_staff(manage=200, staff=403)},
    "works.settings": {"GET": everyone(405), "POST": event_staff(manage=422, staff=403)},
    "works.entrant": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "works.remove": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "works.file": {"GET": expect(404, anonymous=LOGIN, organizer=200, admin=200)},
    "works.defense": {"GET": event_staff(manage=200, staff=403)},
    "works.generate": {"GET": everyone(405), "POST": event_staff(manage=422, staff=403)},
    "works.add_batch": {"GET": everyone(405), "POST": event_staff(manage=422, staff=403)},
    "works.edit_batch": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "works.delete_batch": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "works.move": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "works.defense_print": {"GET": event_staff(manage=200, staff=403)},
    "works.participant": {"GET": everyone(200), "POST": everyone(422)},
    "works.participant_remove": {"GET": everyone(405), "POST": everyone(302)},
    "works.participant_file": {"GET": everyone(200)},
    # ---------------------------------------------------------------- certificates (issue 9): organizers of the event.
    # certificate_id: event A's participation certificate of its sign-up; batch_id: a queued certificate batch (its
    # ZIP is not made yet: back to the overview). Empty forms are shown again (422); reissue and revoke without input
    # go back to the certificate with a message, "tell holders" queues and goes back (302).
    "certificates.index": {"GET": event_staff(manage=200, staff=403)},
    "certificates.design": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "certificates.preview": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "certificates.calibration": {"GET": event_staff(manage=200, staff=403)},
    "certificates.issue": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "certificates.batch_zip": {"GET": event_staff(manage=302, staff=403)},
    "certificates.detail": {"GET": event_staff(manage=200, staff=403)},
    "certificates.certificate_pdf": {"GET": event_staff(manage=200, staff=403)},
    "certificates.reissue": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "certificates.revoke": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "certificates.notify": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # Public: the page the QR code opens, the form to type a number (an empty form is 422), the JSON API, the holder's
    # own PDF behind their sign-up link (key) and the signed link of "certificate ready" (token).
    "certificates_public.verify": {"GET": everyone(200)},
    "certificates_public.verify_form": {"GET": everyone(200), "POST": everyone(422)},
    "certificates_public.registration_certificate": {"GET": everyone(200)},
    "certificates_public.download": {"GET": everyone(200)},
    "certificates_api.api_verify": {"GET": everyone(200)},
    # ---------------------------------------------------------------- background tasks (task_id: a queued export
    # of the event). Whoever manages the task's event; the download of a task without a file goes back to its page.
    "tasks.task_detail": {"GET": event_staff(manage=200, staff=403)},
    "tasks.cancel": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "tasks.download": {"GET": event_staff(manage=302, staff=403)},
    "tasks.event_tasks": {"GET": event_staff(manage=200, staff=403)},
    "tasks_api.task_status": {"GET": event_staff(manage=200, staff=403, anonymous=401)},
    # the export as a background task: organizers only, then on to the task's progress page
    "registration.start_export_task": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    # ---------------------------------------------------------------- the chief judge's desk (裁判长工作台): the
    # competition's chief judge and the event's organizers and admins; other roles in the event (check-in staff, a
    # plain judge) 403, no role 404 (test_competition_officials has the chief judge's 200). Every action asks for the
    # password again: an empty body is 422 (password_required) before anything else, except that unlock and
    # close_rescore first look up their score / re-score request (score_id, request_id: ids that do not exist, 404;
    # the world's round is not in scoring, so there are none). Settings with an empty form are refused (422).
    "desk.competition": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "desk.round_desk": {"GET": event_staff(manage=200, staff=403)},
    "desk.progress": {"GET": event_staff(manage=200, staff=403, anonymous=401)},
    # the world draws no codes: the entrant has no code in the round, so its sheet is 404 also for those allowed in
    # (tests/judging/test_desk_views.py opens a drawn one), and so is a refused paper sheet shown on it
    "desk.entrant": {"GET": event_staff(manage=404, staff=403)},
    "desk.unlock": {"GET": everyone(405), "POST": event_staff(manage=404, staff=403)},
    "desk.paper_sheet": {"GET": everyone(405), "POST": event_staff(manage=404, staff=403)},
    "desk.rescore": {"GET": everyone(405), "POST": event_staff(manage=422, staff=403)},
    "desk.keep": {"GET": everyone(405), "POST": event_staff(manage=422, staff=403)},
    "desk.close_rescore": {"GET": everyone(405), "POST": event_staff(manage=404, staff=403)},
    # ---------------------------------------------------------------- the lock chain (judging/process.py): pages for
    # organizers and admins and the competition's chief judge, encryption judge, supervisors and arbitrators (a
    # plain judge and check-in staff 403, no role 404; test_competition_officials has the officials). Each button runs
    # one service that checks the step's role again; the world's competition is in the simple mode with its round not
    # in scoring, so the steps are refused (409), or 422 where the empty form lacks the reason. item_id, decryption_id
    # and revision name nothing (the chain is not walked): 404 for those allowed in; tests/judging/test_process.py and
    # test_process_views.py walk the real chain.
    "process.chain_page": {"GET": event_staff(manage=200, staff=403)},
    "process.review": {"GET": event_staff(manage=200, staff=403)},
    "process.snapshot": {"GET": event_staff(manage=404, staff=403)},
    "process.sealed_draw": {"GET": event_staff(manage=200, staff=403)},
    "process.settings": {"GET": everyone(405), "POST": event_staff(manage=302, staff=403)},
    "process.decide": {"GET": everyone(405), "POST": event_staff(manage=404, staff=403)},
    "process.decrypt_confirm": {"GET": everyone(405), "POST": event_staff(manage=404, staff=403)},
    "process.decrypt_withdraw": {"GET": everyone(405), "POST": event_staff(manage=404, staff=403)},
    "process.lock": {"GET": everyone(405), "POST": event_staff(manage=409, staff=403)},
    "process.unlock": {"GET": everyone(405), "POST": event_staff(manage=422, staff=403)},  # no password, no reason
    "process.start_review": {"GET": everyone(405), "POST": event_staff(manage=409, staff=403)},
    # decryption is started by the encryption judge only: organizers too are refused (403, wrong_role)
    "process.decrypt_start": {"GET": everyone(405), "POST": event_staff(manage=403, staff=403)},
    # publishing and finalizing ask for the password again: an empty form is 422 (password_required)
    "process.publish": {"GET": everyone(405), "POST": event_staff(manage=422, staff=403)},
    "process.finalize": {"GET": everyone(405), "POST": event_staff(manage=422, staff=403)},
    "process.revise": {"GET": everyone(405), "POST": event_staff(manage=422, staff=403)},  # no reason
    # ---------------------------------------------------------------- appeals (申诉). Participants through their
    # sign-up's secret link (key; the world's works entrant is made from it): the form for anyone holding it (an
    # empty form 422); appeal_id names nothing (404). Staff pages: the competition's arbitrators decide, the event's
    # organizers and admins read, file on an entrant's behalf and set the rules; other roles in the event 403, no
    # role 404 (test_competition_officials has the arbitrator).
    "appeals.participant_file": {"GET": everyone(200), "POST": everyone(422)},
    "appeals.participant_attachment": {"GET": everyone(404)},
    "appeals.index": {"GET": event_staff(manage=200, staff=403)},
    "appeals.detail": {"GET": event_staff(manage=404, staff=403), "POST": event_staff(manage=404, staff=403)},
    "appeals.attachment": {"GET": event_staff(manage=404, staff=403)},
    "appeals.organizer_file": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    "appeals.settings": {"GET": event_staff(manage=200, staff=403), "POST": event_staff(manage=422, staff=403)},
    # ---------------------------------------------------------------- judging reports: organizers, admins and the
    # competition's chief judge; panel_id is the world's panel. Each download logged.
    "judging_reports.index": {"GET": event_staff(manage=200, staff=403)},
    "judging_reports.score_sheet": {"GET": event_staff(manage=200, staff=403)},
    "judging_reports.log": {"GET": event_staff(manage=200, staff=403)},
    "judging_reports.audit": {"GET": event_staff(manage=200, staff=403)},
    # ---------------------------------------------------------------- statistics: organizers and admins of the
    # organization (organization_id: event A's, org A). The entry page sends someone managing one organization on
    # to it (org A's organizer, org B's) and lists several for an association's admin (org A and its branch); those
    # managing none get 403. Org A's page: 404 without a role in org A (check-in staff of one event have none in the
    # organization itself), 403 with a role that does not manage it (a judge of org A).
    "stats.index": {"GET": expect(403, anonymous=LOGIN, organizer=302, other=302, admin=200)},
    "stats.period": {"GET": expect(anonymous=LOGIN, participant=404, other=404, staff=404, judge=403, organizer=200,
                                   admin=200)},
    "stats.period_export": {"GET": expect(anonymous=LOGIN, participant=404, other=404, staff=404, judge=403,
                                          organizer=200, admin=200)},
    "stats.event": {"GET": event_staff(manage=200, staff=403)},
    "stats.event_export": {"GET": event_staff(manage=200, staff=403)},
}


# ---------------------------------------------------------------- the world


@lru_cache(maxsize=1)
def password_hash() -> str:
    """One real hash for every user of the world (hashing is slow by design)."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(Factory.PASSWORD)


@dataclass
class World:
    org_a: object
    branch_a: object
    org_b: object
    event_a: object
    session_a: object
    event_b: object
    session_b: object
    users: dict[str, object] = field(default_factory=dict)  # role -> User (no "anonymous")
    tokens: dict[str, object] = field(default_factory=dict)  # role -> the user's ApiToken
    # event id -> (an approved Registration of that event, the secret key of its manage link)
    registrations: dict[int, tuple[object, str]] = field(default_factory=dict)
    # event id -> a custom question of that event's sign-up form
    questions: dict[int, object] = field(default_factory=dict)
    # event id -> a queued background task (an export) of that event
    tasks: dict[int, object] = field(default_factory=dict)
    # event id -> URL values of that event's competition (competition_id, round_id, group_id, entrant_id, …)
    competitions: dict[int, dict] = field(default_factory=dict)
    # event id -> URL values of that event's judging (profile_id, panel_id, member_id, invitation)
    judging: dict[int, dict] = field(default_factory=dict)
    # event id -> {"certificate": a participation certificate of its sign-up, "batch": a queued certificate batch}
    certificates: dict[int, dict] = field(default_factory=dict)
    # event id -> {"work_id", "defense_batch_id"}: a submitted work and a defense batch (tests/competition/works_builders.py)
    works: dict[int, dict] = field(default_factory=dict)


def make_user(db, login: str, name: str, memberships=()):
    from accounts.models import MembershipRole, User
    from accounts.services import add_membership

    user = User(login=login, name=name, password_hash=password_hash())
    db.session.add(user)
    db.session.flush()
    for organization, role, event in memberships:
        add_membership(user, organization, MembershipRole(role), event=event)
    return user


def make_registration(db, event, name: str, phone: str) -> tuple[object, str]:
    from registration import services as registration_services

    registration, key = registration_services.register_participant(
        event, registration_services.SignupData(name=name, phone=phone, unit="厦门大学"), now=NOW, ignore_window=True
    )
    return registration, key


def make_question(db, event, actor):
    from registration import services as registration_services
    from registration.fields import FieldKind

    return registration_services.add_field(
        event, registration_services.FieldData(kind=FieldKind.TEXT, label="所在城市"), actor=actor, now=NOW
    )


OFFICIALS = ("chief", "encryptor", "supervisor", "arbitrator")


def add_officials(competition_id: int, *, actor) -> dict[str, object]:
    """The competition's officials (not in ROLES; test_competition_officials): chief judge (裁判长), encryption judge
    (加密裁判), supervisor (监督) and arbitrator (仲裁), each a judge account of the competition's organization."""
    from competition.models import Competition
    from extensions import db
    from judging import services as js
    from judging.models import JudgeRole

    competition = db.session.get(Competition, competition_id)
    names = {"chief": "钱裁判长", "encryptor": "孙加密", "supervisor": "周监督", "arbitrator": "郑仲裁"}
    return {role: js.add_judge(competition, js.JudgeData(
        name=names[role], login=f"{role}-{competition.id}@judges.example.org", role=JudgeRole(role),
        password=Factory.PASSWORD), actor=actor, now=NOW).profile.user for role in OFFICIALS}


def build_world(db, factory) -> World:
    from datetime import timedelta

    from accounts.services import create_api_token
    from core.types import utcnow

    # Sign-up is open on the real clock (the views use it): the events start a month from now.
    starts_at = utcnow().replace(microsecond=0) + timedelta(days=30)
    org_a = factory.organization("甲省信息协会")
    branch_a = factory.organization("甲省信息协会青年专委会", parent=org_a)
    org_b = factory.organization("乙市软件行业协会")
    event_a = factory.event(org_a, title="甲协会海峡两岸信息化论坛", status="published", sessions=1,
                            starts_at=starts_at)
    event_b = factory.event(org_b, title="乙协会小程序技能大赛", kind="competition", status="published", sessions=1,
                            starts_at=starts_at)
    users = {
        "participant": make_user(db, "13800000001", "林小雨"),
        "staff": make_user(db, "staff@a.example.org", "陈签到", [(org_a, "checkin_staff", event_a)]),
        "judge": make_user(db, "judge@a.example.org", "王评委", [(org_a, "judge", None)]),
        "organizer": make_user(db, "organizer@a.example.org", "李组织", [(org_a, "organizer", None)]),
        "other": make_user(db, "organizer@b.example.org", "赵乙方", [(org_b, "organizer", None)]),
        "admin": make_user(db, "admin@a.example.org", "周管理", [(org_a, "admin", None)]),
        # Not in ROLES; used by the tenant-isolation tests.
        "admin_b": make_user(db, "admin@b.example.org", "钱乙管", [(org_b, "admin", None)]),
        "branch_admin": make_user(db, "admin@branch-a.example.org", "孙分会", [(branch_a, "admin", None)]),
    }
    tokens = {role: create_api_token(user, name="门口扫码枪1", now=NOW)[0] for role, user in users.items()}
    registrations = {
        event_a.id: make_registration(db, event_a, "林一鸣", "13900000001"),
        event_b.id: make_registration(db, event_b, "黄二妹", "13900000002"),
    }
    questions = {
        event_a.id: make_question(db, event_a, users["organizer"]),
        event_b.id: make_question(db, event_b, users["other"]),
    }
    from tasks.services import start_task

    tasks = {
        event_a.id: start_task("registration.export", event=event_a, actor=users["organizer"], params={}, now=NOW),
        event_b.id: start_task("registration.export", event=event_b, actor=users["other"], params={}, now=NOW),
    }
    from tests.competition.builders import competition_url_values, make_competition

    competitions = {
        event_a.id: competition_url_values(make_competition(event_a, users["organizer"], now=NOW)),
        event_b.id: competition_url_values(make_competition(event_b, users["other"], now=NOW)),
    }
    from tests.judging.builders import judging_url_values

    judging = {
        event_a.id: judging_url_values(competitions[event_a.id], actor=users["organizer"], judge=users["judge"]),
        event_b.id: judging_url_values(competitions[event_b.id], actor=users["other"]),
    }
    users.update(add_officials(competitions[event_a.id]["competition_id"], actor=users["organizer"]))
    from tests.certificates.world import build_certificates

    certificates = build_certificates([event_a, event_b], {event_a.id: users["organizer"], event_b.id: users["other"]},
                                      registrations)
    from tests.competition.works_builders import works_url_values

    works = {event.id: works_url_values(competitions[event.id], registrations[event.id][0], actor=actor)
             for event, actor in ((event_a, users["organizer"]), (event_b, users["other"]))}
    db.session.commit()
    return World(
        org_a=org_a, branch_a=branch_a, org_b=org_b,
        event_a=event_a, session_a=event_a.sessions[0], event_b=event_b, session_b=event_b.sessions[0],
        users=users, tokens=tokens, registrations=registrations, questions=questions, tasks=tasks,
        competitions=competitions, judging=judging, certificates=certificates, works=works,
    )


@pytest.fixture()
def world(db, factory) -> World:
    """A fresh copy of the world: built once per test process, then its rows (and files) copied back before each
    test and its objects loaded again (``build_once`` in tests/conftest.py); the same state as ``build_world``."""
    return build_once(db, "access world", lambda: build_world(db, factory))


def isolated_client(app):
    """A fresh test client (conftest's client class runs each request in its own application context)."""
    return app.test_client()


@pytest.fixture()
def client(app, db):
    return isolated_client(app)


def url_values(world: World, role: str, event=None) -> dict[str, int]:
    """Values for URL parameters. ``event`` (default: event A) is the event whose objects fill the URL."""
    event = event or world.event_a
    registration, key = world.registrations[event.id]
    return {
        "event_id": event.id,
        "session_id": event.sessions[0].id,
        "token_id": world.tokens.get(role, world.tokens["organizer"]).id,
        "registration_id": registration.id,
        "key": key,
        "field_id": world.questions[event.id].id,
        "task_id": world.tasks[event.id].id if event.id in world.tasks else 0,
        "message_id": outbox_message_id(registration),
        "kind": "approved",  # a message template: kind and language
        "language": "zh_Hans",
        "direction": "up",
        **world.competitions.get(event.id, competition_zero_values()),
        **world.judging.get(event.id, judging_zero_values()),
        **certificate_url_values(world, event),
        **world.works.get(event.id, {"work_id": 0, "defense_batch_id": 0}),
        "organization_id": event.organization_id,
        "judge_id": judge_user_id(world.judging.get(event.id, {}).get("profile_id")),
        # the lock chain, appeals and the desk's re-score requests are not walked in the world: ids of nothing
        **dict.fromkeys(("score_id", "request_id", "item_id", "decryption_id", "revision", "appeal_id"), 0),
    }


def judge_user_id(profile_id) -> int:
    """The user of a judge profile (the desk's paper score sheet names the judge by user id)."""
    from extensions import db
    from judging.models import JudgeProfile

    profile = db.session.get(JudgeProfile, profile_id) if profile_id else None
    return profile.user_id if profile is not None else 0


def certificate_url_values(world: World, event) -> dict:
    from tests.certificates.world import certificate_url_values as values

    return values(world, event)


def judging_zero_values() -> dict:
    from tests.judging.builders import judging_zero_values as zero

    return zero()


def competition_zero_values() -> dict[str, int]:
    """URL values for an event without a competition: ids that exist nowhere (its pages answer 404)."""
    return dict.fromkeys(("competition_id", "group_id", "round_id", "module_id", "criterion_id", "entrant_id"), 0) | {
        "stage": 1}


def outbox_message_id(registration) -> int:
    """The outbox message that signing up queued for ``registration`` (notifications)."""
    import sqlalchemy as sa

    from extensions import db
    from notifications.models import Message

    return db.session.scalar(sa.select(Message.id).where(Message.registration_id == registration.id).limit(1)) or 0


def build_path(rule, values: dict) -> str:
    unknown = sorted(set(rule.arguments) - set(values))
    if unknown:
        pytest.fail(
            f"route {rule.rule} ({rule.endpoint}) has URL parameter(s) {unknown} that the access tests cannot fill: "
            "add them to url_values() (and the objects to build_world()) in tests/test_access.py"
        )
    built = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)
    assert built is not None, f"could not build {rule.rule} from {values}"
    return built[1]


def log_in_as(client, world: World, role: str) -> None:
    """Put ``role``'s user in the session (the real login form is tested in tests/core/test_security.py)."""
    if role == "anonymous":
        return
    with client.session_transaction() as session:
        session["_user_id"] = world.users[role].get_id()
        session["_fresh"] = True


def fresh_csrf_token(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/")


def send(client, method: str, path: str):
    """GET as is; a write with a valid CSRF token and an empty body (form or JSON {})."""
    if method == "GET":
        return client.get(path)
    token = fresh_csrf_token(client)
    if path.startswith("/api/"):
        return client.open(path, method=method, json={}, headers={"X-CSRFToken": token})
    return client.open(path, method=method, data={"csrf_token": token})


def rules_for(app, endpoint: str):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]


def methods_of(rule) -> list[str]:
    """GET always (so that POST-only routes are checked for 405), plus what the route takes."""
    return sorted({"GET"} | (set(rule.methods) - IGNORED_METHODS))


def check_error_format(response, path: str, endpoint: str = "") -> str | None:
    """Under /api/ (and for JSON_ENDPOINTS) every error is JSON {"error": {"code", "message"}}; elsewhere an HTML
    page."""
    if response.status_code < 400:
        return None
    if path.startswith("/api/") or endpoint in JSON_ENDPOINTS:
        data = response.get_json(silent=True)
        if not (isinstance(data, dict) and isinstance(data.get("error"), dict)
                and isinstance(data["error"].get("code"), str) and data["error"].get("message")):
            return f"{path}: expected a JSON error, got {response.mimetype}: {response.get_data(as_text=True)[:200]}"
    elif response.mimetype != "text/html":
        return f"{path}: expected an HTML error page, got {response.mimetype}"
    return None


def check_answer(response, expected, path: str, label: str, endpoint: str = "") -> None:
    status = response.status_code
    body = response.get_data()[:400].decode("utf-8", "replace")
    assert status != 500, f"{label}: 500\n{body}"
    if expected == LOGIN:
        assert status == 302, f"{label}: expected a redirect to the login page, got {status}\n{body}"
        target = urlsplit(response.location)
        assert target.path == "/login", f"{label}: redirected to {response.location}, not to the login page"
        assert parse_qs(target.query).get("next") == [path], f"{label}: login redirect {response.location} lost next"
        return
    assert status == expected, f"{label}: got {status}, expected {expected}\n{body}"
    if status in (301, 302, 303, 307, 308):
        assert urlsplit(response.location).path != "/login", f"{label}: unexpected redirect to the login page"
    problem = check_error_format(response, path, endpoint)
    assert problem is None, f"{label}: {problem}"


# ---------------------------------------------------------------- tests


def test_every_endpoint_is_listed(app):
    problems = []
    endpoints = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS:
            continue
        endpoints.add(rule.endpoint)
        row = ACCESS.get(rule.endpoint)
        if row is None:
            problems.append(f"add {rule.endpoint} ({rule.rule}) to ACCESS in tests/test_access.py")
            continue
        for method in methods_of(rule):
            if method not in row:
                problems.append(f"add {method} to ACCESS[{rule.endpoint!r}] in tests/test_access.py")
        for method in set(row) - set(methods_of(rule)):
            problems.append(f"ACCESS[{rule.endpoint!r}] has {method}, which {rule.rule} does not take: remove it")
    for stale in sorted(set(ACCESS) - endpoints):
        problems.append(f"ACCESS lists {stale}, which is not a route any more: remove it from tests/test_access.py")
    assert not problems, "\n".join(problems)


def test_access_table_has_no_duplicate_rows():
    """A dict literal keeps the last of two equal keys without a word: a row added twice would hide the first."""
    import ast

    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "ACCESS":
            keys = [k.value for k in node.value.keys if isinstance(k, ast.Constant)]
            assert len(keys) == len(ACCESS) > 0
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            assert not duplicates, f"ACCESS lists these endpoints twice: {duplicates}"
            return
    pytest.fail("ACCESS not found in tests/test_access.py")


CASES = [
    pytest.param(endpoint, method, role, id=f"{endpoint}-{method}-{role}")
    for endpoint, row in ACCESS.items()
    for method, codes in row.items()
    for role in codes
]


@pytest.mark.parametrize(("endpoint", "method", "role"), CASES)
def test_access(app, client, world, endpoint, method, role):
    rules = rules_for(app, endpoint)
    assert rules, f"ACCESS lists {endpoint}, which is not a route any more: remove it from tests/test_access.py"
    expected = ACCESS[endpoint][method][role]
    log_in_as(client, world, role)
    for rule in rules:
        path = build_path(rule, url_values(world, role))
        response = send(client, method, path)
        check_answer(response, expected, path, f"{method} {path} as {role}", endpoint)


# What the competition's officials (add_officials) get on the pages of event A's competition: each sees the pages of
# their own duty and is refused (403, a role in the event) elsewhere, like a plain judge.
OFFICIAL_ACCESS: dict[str, dict[str, int]] = {
    # the desk and the reports: the chief judge only
    "desk.competition": {"chief": 200, "encryptor": 403, "supervisor": 403, "arbitrator": 403},
    "desk.round_desk": {"chief": 200, "encryptor": 403, "supervisor": 403, "arbitrator": 403},
    "desk.progress": {"chief": 200, "encryptor": 403, "supervisor": 403, "arbitrator": 403},
    "judging_reports.index": {"chief": 200, "encryptor": 403, "supervisor": 403, "arbitrator": 403},
    "judging_reports.audit": {"chief": 200, "encryptor": 403, "supervisor": 403, "arbitrator": 403},
    # the lock chain's pages: every official; the sealed draw: the encryption judge only
    "process.chain_page": dict.fromkeys(OFFICIALS, 200),
    "process.review": dict.fromkeys(OFFICIALS, 200),
    "process.sealed_draw": {"chief": 403, "encryptor": 200, "supervisor": 403, "arbitrator": 403},
    # appeals: the arbitrators read and decide; filing on behalf and the rules are the organizers'
    "appeals.index": {"chief": 403, "encryptor": 403, "supervisor": 403, "arbitrator": 200},
    "appeals.organizer_file": dict.fromkeys(OFFICIALS, 403),
    "appeals.settings": dict.fromkeys(OFFICIALS, 403),
    # the organizers' own pages stay closed to them
    "competition.detail": dict.fromkeys(OFFICIALS, 403),
    "results.board": dict.fromkeys(OFFICIALS, 403),
    "stats.event": dict.fromkeys(OFFICIALS, 403),
}


@pytest.mark.parametrize("endpoint", sorted(OFFICIAL_ACCESS))
def test_competition_officials(app, client, world, endpoint):
    wrong = []
    for role, expected in OFFICIAL_ACCESS[endpoint].items():
        log_in_as(client, world, role)
        for rule in rules_for(app, endpoint):
            path = build_path(rule, url_values(world, role))
            response = client.get(path)
            assert response.status_code != 500, f"GET {path} as {role}: 500"
            if response.status_code != expected:
                wrong.append(f"GET {path} as {role}: {response.status_code}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_an_official_of_event_a_is_a_stranger_to_event_b(app, client, world):
    """The chief judge of event A's competition: 404 on event B's desk, chain, appeals and reports."""
    log_in_as(client, world, "chief")
    for endpoint in ("desk.competition", "desk.progress", "process.chain_page", "appeals.index",
                     "judging_reports.index"):
        for rule in rules_for(app, endpoint):
            path = build_path(rule, url_values(world, "chief", event=world.event_b))
            assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("path", ["/manage/", "/manage/events/new", "/account", "/account/password"])
def test_anonymous_is_sent_to_login_with_a_message(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"
    page = client.get(response.location)
    assert page.status_code == 200
    assert 'class="alert alert-warning' in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/events/1"])
def test_anonymous_api_gets_401_json(client, db, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "Location" not in response.headers


def test_revoking_someone_elses_token_is_404_and_leaves_it(app, client, world):
    from accounts.models import ApiToken
    from extensions import db

    log_in_as(client, world, "organizer")
    victim = world.tokens["other"]
    response = send(client, "POST", f"/account/tokens/{victim.id}/revoke")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, victim.id).revoked_at is None


def test_event_limited_staff_sees_nothing_of_other_events_in_the_same_organization(client, world, factory):
    """Check-in staff for event A only: another event of org A is as unknown to them as one of org B."""
    other_event = factory.event(world.org_a, title="甲协会另一场沙龙", kind="salon", status="published")
    log_in_as(client, world, "staff")
    assert client.get(f"/manage/events/{other_event.id}").status_code == 404
    assert client.get(f"/api/v1/events/{other_event.id}").status_code == 404
    assert "甲协会另一场沙龙" not in client.get("/manage/").get_data(as_text=True)
    assert client.get(f"/manage/events/{world.event_a.id}").status_code == 200


def test_admin_of_an_association_manages_its_branches_events(client, world, factory):
    branch_event = factory.event(world.branch_a, title="青年专委会技术沙龙", kind="salon")
    log_in_as(client, world, "admin")
    assert client.get(f"/manage/events/{branch_event.id}/edit").status_code == 200
    log_in_as(client, world, "organizer")  # organizer of the parent only: no role in the branch
    assert client.get(f"/manage/events/{branch_event.id}").status_code == 404


def test_each_test_starts_from_the_world_as_built(app, db, factory, world):
    """The world is built once per process and copied back for each test (``build_once``): what one test deletes
    (rows, the stored work's file) or changes on the objects is back, unchanged, in the next copy."""
    from competition import works
    from competition.work_models import WorkFile
    from tests.conftest import _empty_tables, snapshot_rows

    def state():
        rows = {table.name: rows for table, rows in snapshot_rows(db) if rows}
        work = db.session.get(WorkFile, world.works[world.event_a.id]["work_id"])
        return rows, works.path_of(work, works.storage_directory()).read_bytes()

    rows, stored = state()
    assert {"users", "events", "registrations", "work_files", "certificates"} <= set(rows)
    works.path_of(db.session.get(WorkFile, world.works[world.event_a.id]["work_id"]),
                  works.storage_directory()).unlink()
    world.users["organizer"].name = "改过的名字"
    world.extra = "only in this copy"
    db.session.commit()
    db.session.remove()
    _empty_tables(db)

    world = build_once(db, "access world", lambda: pytest.fail("built again instead of copied"))
    assert not hasattr(world, "extra")
    assert world.users["organizer"].name == "李组织"
    assert state() == (rows, stored)
