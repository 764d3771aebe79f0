"""The chief judge's printable reports (issue 7):

- 成绩单 (``score_sheet_pdf``): per panel and round, every judge's submitted score per entrant and criterion, each
  judge's sum and the entrant's combined total, a signature line for each judge and the chief judge. Entrants are
  shown by their code (the round's code stage) until identities are released
  (``competition.results.is_identity_released``), by name and unit afterwards.
- The review and appeal log (``log_pdf``): every change to a submitted score (old → new, who, when, why, kind), the
  lock chain's steps as audited, the review (复核) sample when there is one, and every appeal with its decision.
- The audit trail as Excel (``audit_workbook``): the same score changes, the process steps (every audit entry of
  the competition) and the appeals, one sheet each; text cells stay text (``registration.spreadsheets``).

PDFs embed the CJK font through ``core.pdf`` (one registration, built under ``FONT_LOCK``); a missing or unusable
font raises ``ReportFontError``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import User
from competition.models import Competition, Criterion, Entrant, Round
from core.models import AuditEntry
from extensions import db
from core.pdf import FONT_LOCK, FontError, cjk_font
from judging.models import JudgeProfile, JudgeRole, Panel, Score, ScoreChange, ScoreState


class ReportFontError(FontError):
    """The CJK font of the judging reports is missing or cannot be embedded."""

    what = "report font"


def _local(value: datetime | None, competition: Competition) -> str:
    from core.templating import format_local

    return format_local(value, competition.event.timezone, "short") if value else ""


def _plain(value) -> str:
    from judging.services import plain

    return plain(value) if value is not None else "—"


def _user_names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())


def _labels(competition: Competition, entrant_ids, *, code_stage: int = 1) -> dict[int, str]:
    """entrant id -> what a report shows: the code, and name (unit) once identities are released."""
    from competition.draw import codes_by_entrant
    from competition.results import is_identity_released

    codes = codes_by_entrant(competition, code_stage)
    labels = {e: codes.get(e, "—") for e in entrant_ids}
    if is_identity_released(competition):
        for entrant_id, name, unit in db.session.execute(sa.select(Entrant.id, Entrant.name, Entrant.unit).where(
                Entrant.id.in_(set(entrant_ids) or {0}))):
            labels[entrant_id] = f"{labels[entrant_id]} {name}" + (f"（{unit}）" if unit else "")
    return labels


# ================================================================ 成绩单: one panel, one round


@dataclass
class SheetEntrant:
    label: str
    rows: list[list[str]]  # criterion, maximum, one value per judge
    sums: list[str]  # per judge
    total: str  # combined result of the entrant (all counted rounds), or "—"


@dataclass
class ScoreSheet:
    title: str
    subtitle: str
    status: str
    judges: list[str]
    headers: list[str]
    entrants: list[SheetEntrant]
    signoffs: list[str]
    note: str
    generated: str
    total_label: str
    sum_label: str


def score_sheet(panel: Panel, *, now: datetime) -> ScoreSheet:
    from competition.results import is_identity_released, standings
    from judging import services as js

    competition = db.session.get(Competition, panel.competition_id)
    round_ = db.session.get(Round, panel.round_id)
    members = [m.profile.user for m in panel.judges]
    criteria = js.round_criteria(round_)
    entrants = js.panel_entrants(panel)
    entrant_ids = [e.id for e in entrants]
    judge_ids = [u.id for u in members]
    values: dict[tuple[int, int, int], Decimal] = {}
    for entrant_id, judge_id, criterion_id, value in db.session.execute(
            sa.select(Score.entrant_id, Score.judge_id, Score.criterion_id, Score.value).where(
                Score.round_id == round_.id, Score.entrant_id.in_(entrant_ids or [0]),
                Score.judge_id.in_(judge_ids or [0]), Score.state == ScoreState.SUBMITTED)):
        values[(entrant_id, judge_id, criterion_id)] = value
    from judging.values import Precision

    precision = Precision(int(competition.places), competition.rounding)  # every number at the same places
    totals: dict[int, str] = {}
    try:
        computed = standings(competition, now=now)
        for board in computed.boards:
            for line in board.lines:
                if line.total is not None:
                    totals.setdefault(line.entrant.id, format(precision.quantize(Decimal(line.total)), "f"))
    except Exception:  # noqa: BLE001 - a sheet without combined totals is still a sheet of the judges' scores
        totals = {}
    labels = _labels(competition, entrant_ids, code_stage=js.round_settings(round_).code_stage)
    sheet_entrants = []
    for entrant in entrants:
        rows, sums = [], [Decimal(0)] * len(members)
        for criterion in criteria:
            row = [f"{criterion.code} {criterion.name}", _plain(criterion.maximum)]
            for i, user in enumerate(members):
                value = values.get((entrant.id, user.id, criterion.id))
                row.append(js.value_text(value, criterion, competition) if value is not None else "—")
                if value is not None:
                    sums[i] += Decimal(criterion.maximum) * value / 3 if criterion.ladder else value
            rows.append(row)
        scored = [any((entrant.id, u.id, c.id) in values for c in criteria) for u in members]
        sheet_entrants.append(SheetEntrant(
            label=labels.get(entrant.id, "—"), rows=rows,
            sums=[format(precision.quantize(s), "f") if scored[i] else "—" for i, s in enumerate(sums)],
            total=totals.get(entrant.id, "—")))
    chief = db.session.scalars(sa.select(JudgeProfile).where(
        JudgeProfile.competition_id == competition.id, JudgeProfile.role == JudgeRole.CHIEF)).first()
    signoffs = [_("Judge %(name)s, signature", name=u.name) for u in members]
    signoffs.append(_("Chief judge %(name)s, signature", name=chief.user.name) if chief else
                    _("Chief judge, signature"))
    return ScoreSheet(
        title=_("Score sheet"),
        subtitle=f"{competition.event.title} · {competition.title} · {round_.name} · {panel.name}",
        status=(_("Names shown: identities are released.") if is_identity_released(competition)
                else _("Codes shown: identities are sealed.")),
        judges=[u.name for u in members],
        headers=[_("Criterion"), _("Maximum")] + [u.name for u in members],
        entrants=sheet_entrants, signoffs=signoffs,
        note=_("Ladder criteria show the level (0–3); a judge's sum counts them as level ÷ 3 × maximum. "
               "“—”: no submitted score."),
        generated=_("Printed %(when)s", when=_local(now, competition)),
        total_label=_("Combined total"), sum_label=_("Judge's sum"))


def _styles(font: str):
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=17, leading=23, alignment=TA_CENTER, wordWrap="CJK"),
        "sub": ParagraphStyle("sub", fontName=font, fontSize=10, leading=14, alignment=TA_CENTER, wordWrap="CJK",
                              textColor=colors.HexColor("#444444")),
        "heading": ParagraphStyle("heading", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=3,
                                  textColor=colors.HexColor("#b3261e"), wordWrap="CJK"),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK"),
        "head": ParagraphStyle("head", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK",
                               textColor=colors.white),
        "small": ParagraphStyle("small", fontName=font, fontSize=8.5, leading=12, wordWrap="CJK",
                                textColor=colors.HexColor("#444444")),
        "sign": ParagraphStyle("sign", fontName=font, fontSize=10.5, leading=22, wordWrap="CJK"),
    }


def _p(text, style):
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def _table(headers: list[str], rows: list[list], widths: list[float], styles, *, bold_last: bool = False):
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    data = [[_p(h, styles["head"]) for h in headers]] + [[_p(v, styles["cell"]) for v in row] for row in rows]
    if len(data) == 1:
        data.append([_p("—", styles["cell"])] + [_p("", styles["cell"])] * (len(headers) - 1))
    table = Table(data, colWidths=widths, repeatRows=1)
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#b3261e")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if bold_last:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f3eeed")))
    table.setStyle(TableStyle(commands))
    return table


def _document(title: str, author: str, landscape_pages: bool):
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    size = landscape(A4) if landscape_pages else A4
    doc = SimpleDocTemplate(buffer, pagesize=size, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm,
                            bottomMargin=15 * mm, title=title, author=author or "Saihui", creator="Saihui")
    return buffer, doc, size[0] - 28 * mm


def _footer(font: str, text: str, width_total: float):
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    def draw(canvas, document):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(14 * mm, 8 * mm, text[:80])
        canvas.drawRightString(width_total - 14 * mm, 8 * mm, str(document.page))
        canvas.restoreState()

    return draw


def score_sheet_pdf(sheet: ScoreSheet, *, font_path: str, organization: str = "") -> bytes:
    """The 成绩单 as PDF bytes (A4, landscape from five judges on). Raises ReportFontError without the font."""
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer

    with FONT_LOCK:
        font = cjk_font(font_path, error=ReportFontError)
        wide = len(sheet.judges) >= 5
        buffer, doc, inner = _document(sheet.title, organization, wide)
        styles = _styles(font)
        first = min(0.34, 0.62 - 0.06 * len(sheet.judges)) if sheet.judges else 0.7
        first = max(first, 0.2)
        rest = (1 - first - 0.08) / max(len(sheet.judges), 1)
        widths = [inner * first, inner * 0.08] + [inner * rest] * len(sheet.judges)
        story = [_p(sheet.title, styles["title"]), _p(sheet.subtitle, styles["sub"]),
                 _p(f"{sheet.status} · {sheet.generated}", styles["sub"]), Spacer(1, 3 * mm)]
        for entrant in sheet.entrants:
            rows = entrant.rows + [[sheet.sum_label, ""] + entrant.sums]
            block = [_p(f"{entrant.label}　{sheet.total_label}：{entrant.total}", styles["heading"]),
                     _table(sheet.headers, rows, widths, styles, bold_last=True)]
            story.append(KeepTogether(block))
        story += [Spacer(1, 4 * mm), _p(sheet.note, styles["small"]), Spacer(1, 6 * mm),
                  KeepTogether([_p(f"{label}：" + "_" * 20 + "　" + _("Date") + "：" + "_" * 10, styles["sign"])
                                for label in sheet.signoffs])]
        draw = _footer(font, f"{sheet.title} · {sheet.subtitle}", doc.pagesize[0])
        doc.build(story, onFirstPage=draw, onLaterPages=draw)
        return buffer.getvalue()


# ================================================================ the review and appeal log


def _kind_label(kind) -> str:
    value = getattr(kind, "value", kind) or "correction"
    return {
        "correction": _("correction"), "unlock": _("unlocked by the chief judge"),
        "on_behalf": _("entered on the judge's behalf"), "review": _("review (复核)"),
        "appeal": _("appeal (申诉)"), "revision": _("revision of the final results"),
    }.get(value, str(value))


@dataclass
class ChangeRow:
    at: datetime
    entrant_id: int
    round_name: str
    criterion: str
    judge: str
    old: str
    new: str
    state: str
    by: str
    reason: str
    kind: str


def score_changes(competition: Competition) -> list[ChangeRow]:
    """Every logged change to a submitted score of the competition, oldest first."""
    rows = db.session.execute(
        sa.select(ScoreChange, Score, Round, Criterion).join(Score, Score.id == ScoreChange.score_id)
        .join(Round, Round.id == Score.round_id).join(Criterion, Criterion.id == Score.criterion_id)
        .where(Round.competition_id == competition.id).order_by(ScoreChange.changed_at, ScoreChange.id)).all()
    names = _user_names({s.judge_id for _c, s, _r, _k in rows} | {c.changed_by_id for c, _s, _r, _k in rows})
    return [ChangeRow(at=change.changed_at, entrant_id=score.entrant_id, round_name=round_.name,
                      criterion=criterion.code, judge=names.get(score.judge_id, ""), old=_plain(change.old_value),
                      new=_plain(change.new_value),
                      state=f"{change.old_state.value}→{change.new_state.value}",
                      by=names.get(change.changed_by_id, ""), reason=change.reason,
                      kind=_kind_label(getattr(change, "kind", None)))
            for change, score, round_, criterion in rows]


def process_steps(competition: Competition) -> list[AuditEntry]:
    """The audit entries of the competition's judging process and results (locks, review, decryption, provisional,
    final, revisions, appeals, results state), oldest first."""
    prefixes = ("judging.round_lock", "judging.round_unlock", "judging.review", "judging.decrypt", "judging.provisional",
                "judging.final", "judging.revision", "judging.process", "judging.strict", "judging.appeal",
                "results.publish", "results.unpublish", "results.final", "results.provisional", "appeal.")
    entries = _competition_audit(competition)
    return [e for e in entries if e.action.startswith(prefixes)]


def _competition_audit(competition: Competition) -> list[AuditEntry]:
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.organization_id == competition.event.organization_id).order_by(AuditEntry.at, AuditEntry.id))
    return [e for e in entries if (e.details or {}).get("competition_id") == competition.id]


def _appeal_rows(competition: Competition, labels: dict[int, str]) -> list[list[str]]:
    from appeals.services import list_appeals

    state_names = {"open": _("Awaiting decision"), "upheld": _("Upheld"), "rejected": _("Rejected")}
    appeals = list_appeals(competition)
    names = _user_names({a.decided_by_id for a in appeals} | {a.filed_by_id for a in appeals})
    rows = []
    for a in appeals:
        corrections = "；".join(f"{_plain(c.old_value)}→{_plain(c.new_value)}" for c in a.corrections)
        rows.append([f"#{a.number}", labels.get(a.entrant_id, "—"), _local(a.filed_at, competition)
                     + (f"（{names.get(a.filed_by_id, '')}）" if a.filed_by_id else ""), a.reason,
                     state_names[a.state.value], a.decision + (f"\n{corrections}" if corrections else ""),
                     (names.get(a.decided_by_id, "") + " " + _local(a.decided_at, competition)).strip()])
    return rows


def _review_rows(competition: Competition, labels: dict[int, str]) -> list[list[str]] | None:
    """The review (复核) sample's items when the lock chain has them: entrant, criterion, judge, state, checked value,
    reason, by whom. None when the review models are not there."""
    try:
        from judging.process_models import ReviewItem
    except ImportError:
        return None
    items = db.session.scalars(sa.select(ReviewItem).where(ReviewItem.competition_id == competition.id)
                               .order_by(ReviewItem.id)).all()
    score_ids = {i.score_id for i in items}
    scores = {s.id: s for s in db.session.scalars(sa.select(Score).where(Score.id.in_(score_ids or {0})))}
    criteria = dict(db.session.execute(sa.select(Criterion.id, Criterion.code).where(
        Criterion.id.in_({s.criterion_id for s in scores.values()} or {0}))).all())
    names = _user_names({s.judge_id for s in scores.values()} | {getattr(i, "decided_by_id", None) for i in items})
    rows = []
    for item in items:
        score = scores.get(item.score_id)
        rows.append([labels.get(item.entrant_id, "—"), criteria.get(score.criterion_id, "") if score else "",
                     names.get(score.judge_id, "") if score else "", getattr(item.state, "value", str(item.state)),
                     _plain(getattr(item, "checked_value", None)), getattr(item, "reason", "") or "",
                     names.get(getattr(item, "decided_by_id", None), "")])
    return rows


def _step_label(action: str) -> str:
    """A process step as people name it (the audit action itself when it has no name here)."""
    labels = {
        "judging.process_strict": _("Strict judging process"), "judging.round_lock": _("Round locked"),
        "judging.round_unlock": _("Round unlocked"), "judging.review_start": _("Draw the review sample"),
        "judging.review_complete": _("Review complete"), "judging.decrypt_start": _("Start decryption"),
        "judging.decrypt_withdraw": _("Decryption withdrawn"), "judging.decrypt": _("Decryption (解密)"),
        "judging.provisional": _("Provisional results (公示)"), "judging.final": _("Final results"),
        "judging.revision": _("Revision of the final results"), "appeal.filed": _("Appeal filed"),
        "appeal.decided": _("Decision"), "appeal.settings": _("Appeals per entrant"),
    }
    return labels.get(action, action)


def _step_details(details: dict, labels: dict[int, str]) -> str:
    """The entry's details, an entrant by its code (or name once released) rather than its database id."""
    parts = []
    for key, value in details.items():
        if key == "competition_id":
            continue
        if key == "entrant_id":
            parts.append(labels.get(value, "—"))
        else:
            parts.append(f"{key}={value}")
    return "、".join(parts)


@dataclass
class LogContent:
    title: str
    subtitle: str
    generated: str
    sections: list[tuple[str, list[str], list[list[str]], list[float]]] = field(default_factory=list)
    signoffs: list[str] = field(default_factory=list)


def log_content(competition: Competition, *, now: datetime) -> LogContent:
    entrant_ids = list(db.session.scalars(sa.select(Entrant.id).where(Entrant.competition_id == competition.id)))
    labels = _labels(competition, entrant_ids)
    content = LogContent(title=_("Review and appeal log"),
                         subtitle=f"{competition.event.title} · {competition.title}",
                         generated=_("Printed %(when)s", when=_local(now, competition)))
    steps = [[_local(e.at, competition), _step_label(e.action), _user_names([e.actor_id]).get(e.actor_id, ""),
              _step_details(e.details or {}, labels)]
             for e in process_steps(competition) if e.action != "judging.review_item"]  # items: the review section
    content.sections.append((_("Process steps"), [_("Time"), _("Step"), _("By"), _("Details")], steps,
                             [0.16, 0.22, 0.14, 0.48]))
    changes = [[_local(c.at, competition), labels.get(c.entrant_id, "—"), f"{c.round_name} {c.criterion}", c.judge,
                f"{c.old} → {c.new}", c.kind, c.by, c.reason] for c in score_changes(competition)]
    content.sections.append((_("Changes to submitted scores"),
                             [_("Time"), _("Entrant"), _("Criterion"), _("Judge"), _("Old → new"), _("Kind"),
                              _("By"), _("Reason")], changes, [0.11, 0.14, 0.1, 0.09, 0.1, 0.11, 0.09, 0.26]))
    review = _review_rows(competition, labels)
    if review is not None:
        content.sections.append((_("Review (复核)"), [_("Entrant"), _("Criterion"), _("Judge"), _("State"),
                                                      _("Checked value"), _("Reason"), _("By")], review,
                                 [0.2, 0.1, 0.12, 0.12, 0.1, 0.24, 0.12]))
    content.sections.append((_("Appeals"), [_("No."), _("Entrant"), _("Filed"), _("Reason"), _("State"),
                                            _("Decision"), _("Decided")], _appeal_rows(competition, labels),
                             [0.06, 0.15, 0.12, 0.24, 0.09, 0.22, 0.12]))
    content.signoffs = [_("Chief judge, signature"), _("Supervision and arbitration group, signature")]
    return content


def log_pdf(content: LogContent, *, font_path: str, organization: str = "") -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer

    with FONT_LOCK:
        font = cjk_font(font_path, error=ReportFontError)
        buffer, doc, inner = _document(content.title, organization, True)
        styles = _styles(font)
        story = [_p(content.title, styles["title"]), _p(content.subtitle, styles["sub"]),
                 _p(content.generated, styles["sub"]), Spacer(1, 3 * mm)]
        for heading, headers, rows, fractions in content.sections:
            story += [_p(heading, styles["heading"]), _table(headers, rows, [inner * f for f in fractions], styles)]
        story += [Spacer(1, 8 * mm), KeepTogether([_p(f"{label}：" + "_" * 24, styles["sign"])
                                                   for label in content.signoffs])]
        draw = _footer(font, f"{content.title} · {content.subtitle}", doc.pagesize[0])
        doc.build(story, onFirstPage=draw, onLaterPages=draw)
        return buffer.getvalue()


# ================================================================ the audit trail as Excel


def audit_workbook(competition: Competition) -> bytes:
    from appeals.services import list_appeals
    from registration.spreadsheets import Sheet, build_workbook

    entrant_ids = list(db.session.scalars(sa.select(Entrant.id).where(Entrant.competition_id == competition.id)))
    labels = _labels(competition, entrant_ids)
    changes = [[_local(c.at, competition), labels.get(c.entrant_id, "—"), c.round_name, c.criterion, c.judge, c.old,
                c.new, c.state, c.kind, c.by, c.reason] for c in score_changes(competition)]
    entries = _competition_audit(competition)
    actors = _user_names({e.actor_id for e in entries})
    steps = [[_local(e.at, competition), e.action, e.object_type, e.object_id, actors.get(e.actor_id, ""),
              "、".join(f"{k}={v}" for k, v in (e.details or {}).items() if k != "competition_id")] for e in entries]
    appeals = list_appeals(competition)
    names = _user_names({a.decided_by_id for a in appeals} | {a.filed_by_id for a in appeals})
    state_names = {"open": _("Awaiting decision"), "upheld": _("Upheld"), "rejected": _("Rejected")}
    appeal_rows = [[a.number, labels.get(a.entrant_id, "—"), a.appellant_name, _local(a.filed_at, competition),
                    names.get(a.filed_by_id, ""), a.reason, a.attachment_name or "", state_names[a.state.value],
                    a.decision, names.get(a.decided_by_id, ""), _local(a.decided_at, competition),
                    "；".join(f"{_plain(c.old_value)}→{_plain(c.new_value)}" for c in a.corrections)]
                   for a in appeals]
    return build_workbook([
        Sheet(_("Score changes"), [_("Time"), _("Entrant"), _("Round"), _("Criterion"), _("Judge"), _("Old value"),
                                   _("New value"), _("State"), _("Kind"), _("By"), _("Reason")], changes,
              [17, 22, 10, 10, 12, 10, 10, 20, 16, 12, 40]),
        Sheet(_("Process steps"), [_("Time"), _("Action"), _("Object"), _("Object id"), _("By"), _("Details")], steps,
              [17, 26, 16, 10, 12, 60]),
        Sheet(_("Appeals"), [_("No."), _("Entrant"), _("Appellant"), _("Filed"), _("Filed by (organizer)"),
                             _("Reason"), _("Attachment"), _("State"), _("Decision"), _("Decided by"),
                             _("Decided"), _("Corrections")], appeal_rows,
              [6, 22, 12, 17, 14, 40, 16, 10, 40, 12, 17, 20]),
    ])
