"""Statistics as Excel workbooks (openpyxl): the same figures as the pages, nothing else.

The first sheet lists each figure with its value and a stable key (``persons``, ``awards:一等奖`` …) so that other
tools can read it whatever the language of the headers.
"""
from __future__ import annotations

from io import BytesIO

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from core.templating import kind_names
from stats.services import EventStats, PeriodStats, local_date

BOLD = Font(bold=True)


def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list], widths: list[int] | None = None):
    sheet = book.create_sheet(title[:31])
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = BOLD
    for row in rows:
        sheet.append(row)
    for i, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    return sheet


def _rate(value):
    return value if value is not None else None  # a Decimal percent (92.1), or an empty cell when not computable


def state_names() -> dict[str, str]:
    return {
        "published": _("Published"),
        "frozen": _("Frozen: not counted"),
        "unpublished": _("Results not published: not counted"),
        "no_entrants": _("No entrants"),
    }


def status_names() -> dict[str, str]:
    return {"approved": _("Approved"), "pending": _("Pending"), "waitlisted": _("Waitlisted"),
            "rejected": _("Rejected"), "cancelled": _("Cancelled")}


def _figures_sheet(book: Workbook, figures: list[tuple[str, object, str]], summary_text: str | None = None):
    sheet = book.active
    sheet.title = _("Figures")[:31]
    sheet.append([_("Figure"), _("Value"), _("Key")])
    for cell in sheet[1]:
        cell.font = BOLD
    for label, value, key in figures:
        sheet.append([label, value, key])
    if summary_text is not None:
        sheet.append([])
        sheet.append([_("Summary"), summary_text, "summary"])
        sheet.cell(row=sheet.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 80
    sheet.column_dimensions["C"].width = 22
    sheet.freeze_panes = "A2"


def period_figures(stats: PeriodStats) -> list[tuple[str, object, str]]:
    kinds = kind_names()
    figures: list[tuple[str, object, str]] = [
        (_("Year"), stats.period.year, "year"),
        (_("Half year"), stats.period.half or _("Whole year"), "half"),
        (_("Organizations counted"), "、".join(o.name for o in stats.organizations), "organizations"),
        (_("Events held"), len(stats.events), "events"),
    ]
    figures += [(_("Events: %(kind)s", kind=kinds[kind]), count, f"events:{kind}") for kind, count in stats.by_kind]
    figures += [
        (_("Confirmed sign-ups"), stats.approved, "signups"),
        (_("Persons signed up (人次)"), stats.persons, "persons"),
        (_("Persons checked in (人次)"), stats.attended_persons, "attended_persons"),
        (_("Check-in rate (%)"), _rate(stats.check_in_rate), "check_in_rate"),
        (_("Distinct people"), stats.distinct_people, "distinct_people"),
        (_("First-time participants"), stats.first_time, "first_time"),
        (_("Returning participants"), stats.returning, "returning"),
        (_("Distinct units"), stats.distinct_units, "distinct_units"),
        (_("Competitions"), len(stats.competitions), "competitions"),
        (_("Entrants"), stats.entrants, "entrants"),
        (_("Teams"), stats.teams, "teams"),
    ]
    figures += [(_("Awards: %(tier)s", tier=tier), count, f"awards:{tier}") for tier, count in stats.awards]
    figures += [
        (_("Competitions with results not published"), len(stats.unpublished), "unpublished_competitions"),
        (_("Certificates issued"), stats.certificates, "certificates"),
    ]
    return figures


def period_workbook(stats: PeriodStats, summary_text: str) -> bytes:
    kinds, states = kind_names(), state_names()
    book = Workbook()
    _figures_sheet(book, period_figures(stats), summary_text)
    _sheet(book, _("Events"), [_("Date"), _("Event"), _("Kind"), _("Organization"), _("Confirmed sign-ups"),
                               _("Persons signed up (人次)"), _("Persons checked in (人次)"), _("Check-in rate (%)"),
                               _("Distinct units")],
           [[local_date(r.event.starts_at, r.event.timezone), r.event.title, kinds[r.event.kind.value],
             r.event.organization.name, r.approved, r.persons, r.attended_persons, _rate(r.check_in_rate),
             r.distinct_units] for r in stats.events],
           [12, 40, 10, 28, 12, 14, 14, 12, 10])
    for row in book[book.sheetnames[-1]].iter_rows(min_row=2, max_col=1):
        row[0].number_format = "yyyy-mm-dd"
    _sheet(book, _("Months"), [_("Month"), _("Events held"), _("Persons signed up (人次)"),
                               _("Persons checked in (人次)")],
           [[m.month, m.events, m.persons, m.attended_persons] for m in stats.months], [10, 12, 16, 16])
    tiers = [tier for tier, _n in stats.awards]
    _sheet(book, _("Competitions"), [_("Event"), _("Competition"), _("Entrants"), _("Teams"), _("Results")] + tiers,
           [[next((r.event.title for r in stats.events if r.event.id == c.event_id), ""), c.title, c.entrants,
             c.teams, states[c.state]] + [dict(c.awards).get(tier, 0) if c.counted else None for tier in tiers]
            for c in stats.competitions],
           [36, 30, 10, 10, 28] + [10] * len(tiers))
    return _save(book)


def event_workbook(stats: EventStats) -> bytes:
    states, statuses = state_names(), status_names()
    figures: list[tuple[str, object, str]] = [
        (_("Event"), stats.event.title, "event"),
        (_("Sign-ups received"), stats.received, "received"),
    ]
    figures += [(_("Sign-ups: %(status)s", status=statuses[s]), n, f"status:{s}") for s, n in stats.by_status]
    figures += [
        (_("Persons signed up (人次)"), stats.persons, "persons"),
        (_("Sign-ups checked in"), stats.attended_signups, "attended_signups"),
        (_("Persons checked in (人次)"), stats.attended_persons, "attended_persons"),
        (_("Check-in rate (%)"), _rate(stats.check_in_rate), "check_in_rate"),
        (_("No-shows"), stats.no_shows, "no_shows"),
        (_("Distinct people"), stats.distinct_people, "distinct_people"),
        (_("First-time participants"), stats.first_time, "first_time"),
        (_("Returning participants"), stats.returning, "returning"),
        (_("Distinct units"), stats.distinct_units, "distinct_units"),
    ]
    figures += [(_("Awards: %(tier)s", tier=tier), n, f"awards:{tier}") for tier, n in stats.awards]
    book = Workbook()
    _figures_sheet(book, figures)
    _sheet(book, _("Check-in"), [_("Session"), _("Expected"), _("Checked in"), _("Check-in rate (%)")],
           [[s.title or _("The event itself"), s.expected, s.checked_in, _rate(s.rate)] for s in stats.sessions],
           [36, 10, 10, 14])
    _sheet(book, _("Sign-ups by day"), [_("Date"), _("Sign-ups that day"), _("Total so far")],
           [[d.day, d.count, d.cumulative] for d in stats.over_time], [12, 10, 12])
    for row in book[book.sheetnames[-1]].iter_rows(min_row=2, max_col=1):
        row[0].number_format = "yyyy-mm-dd"
    unit_rows = [[u, n] for u, n in stats.by_unit]
    if stats.other_units:
        unit_rows.append([_("Other units"), stats.other_units])
    _sheet(book, _("Units"), [_("Unit"), _("Confirmed sign-ups")], unit_rows, [40, 14])
    _sheet(book, _("Groups"), [_("Group"), _("Confirmed sign-ups")], [list(g) for g in stats.by_group], [20, 14])
    tiers = [tier for tier, _n in stats.awards]
    _sheet(book, _("Competitions"), [_("Competition"), _("Entrants"), _("Teams"), _("Results")] + tiers,
           [[c.title, c.entrants, c.teams, states[c.state]]
            + [dict(c.awards).get(tier, 0) if c.counted else None for tier in tiers] for c in stats.competitions],
           [30, 10, 10, 28] + [10] * len(tiers))
    return _save(book)


def _save(book: Workbook) -> bytes:
    out = BytesIO()
    book.save(out)
    return out.getvalue()
