"""Certificate use cases: designs, issuing (numbers, verify codes), reissue, revoke, rendering, verification,
"certificate ready" messages, and the start of a batch.

Use cases flush but never commit (the view or the task step commits). State changes are conditional UPDATEs or
unique constraints: numbers come from one ``UPDATE … RETURNING`` on the series' counter row; a holder is issued at
most one certificate per event and kind (unique (event, kind, holder_key)); a reissue or a revoke only changes the
row it read (``… WHERE revision = <seen>`` / ``WHERE status = 'valid'``).
"""
from __future__ import annotations

import io
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from certificates import dates, layout, numbering, render
from certificates.layout import Field
from certificates.models import Certificate, CertificateDesign, CertificateKind, CertificateStatus, NumberCounter
from certificates.sources import MAX_HOLDERS, Holder, clean, sort_holders
from core.errors import DomainError
from core.models import record_audit
from core.timezones import utc_to_local
from events.models import Event, HostRole
from extensions import db

log = logging.getLogger(__name__)

BATCH_KIND = "certificates.batch"
VERIFY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed from paper
VERIFY_LENGTH = 10  # 32**10 ≈ 10**15: not guessable, short enough to type
MAX_BACKGROUND_BYTES = 8 * 1024 * 1024
MIN_BACKGROUND = (1400, 990)  # pixels (long side, short side): about 120 dpi on A4
MAX_BACKGROUND_SIDE = 2480  # stored at most this long (about 210 dpi on A4 landscape)
A4_RATIO = 297 / 210
RATIO_TOLERANCE = 0.04
MAX_REASON = 500

KIND_LABELS = {
    CertificateKind.AWARD: _l("Award certificate"),
    CertificateKind.PARTICIPATION: _l("Participation certificate"),
    CertificateKind.TRAINING: _l("Training completion certificate"),
    CertificateKind.APPOINTMENT: _l("Appointment letter"),
}
KIND_NUMBER_WORDS = {"award": "证字", "participation": "参证字", "training": "结字", "appointment": "聘字"}


class CertificateError(DomainError):
    status = 422


# ---------------------------------------------------------------- messages for pure-module codes


def layout_problem_message(problem: layout.Problem, field_labels: dict[str, str]) -> str:
    label = field_labels.get(problem.field, problem.field)
    messages = {
        "off_page": _("%(field)s lies (partly) off the page (%(size)s mm): move it or make it smaller.",
                      field=label, size=problem.detail),
        "too_narrow": _("%(field)s is too narrow: at least %(mm)s mm.", field=label, mm=problem.detail),
        "qr_too_small": _("The QR code must be at least %(mm)s mm wide to scan from paper.", mm=problem.detail),
        "size": _("%(field)s: the font size must be between %(range)s pt.", field=label, range=problem.detail),
        "lines": _("%(field)s: the number of lines must be between %(range)s.", field=label, range=problem.detail),
        "align": _("%(field)s: choose left, centre or right.", field=label),
        "unknown_placeholder": _("%(field)s: {%(name)s} is not a placeholder this certificate knows.",
                                 field=label, name=problem.detail),
        "brackets": _("%(field)s: every [ needs a matching ] (optional parts cannot be nested).", field=label),
    }
    return messages.get(problem.code, _("%(field)s cannot be printed like this.", field=label))


def number_format_message(error: numbering.NumberFormatError) -> str:
    return {
        "empty": _("Enter a number format."),
        "too_long": _("The number format may have at most %(n)s characters.", n=error.detail),
        "control": _("The number format contains an invisible control character."),
        "syntax": _("The number format has an unmatched { or }."),
        "unknown_field": _("{%(name)s} is not a placeholder of number formats; use {seq}, {year} or {event_id}.",
                           name=error.detail),
        "bad_spec": _("%(spec)s: write {seq} or {seq:04d} (zero-padded to 4 digits).", spec=error.detail),
        "no_seq": _("The number format needs {seq}, the sequence number (e.g. {seq:04d})."),
        "seq_twice": _("The number format may contain {seq} only once."),
        "year_missing": _("A sequence per year starts again each January: put {year} in the format, or numbers "
                          "of different years would repeat."),
    }.get(error.code, _("This number format cannot be used."))


def field_labels() -> dict[str, str]:
    return {
        "title": _("Heading"), "holder": _("Holder"), "body": _("Text"), "award": _("Award"),
        "closing": _("Closing words"), "unit": _("Unit"), "competition": _("Competition"), "group": _("Group"),
        "event": _("Event"), "organizers": _("Organizers"), "date": _("Date"), "number": _("Certificate number"),
        "qr": _("QR code"),
    }


# ---------------------------------------------------------------- designs


def get_design(event: Event, kind: CertificateKind) -> CertificateDesign | None:
    return db.session.scalar(sa.select(CertificateDesign).where(
        CertificateDesign.event_id == event.id, CertificateDesign.kind == kind))


def default_number_format(event: Event, kind: CertificateKind) -> str:
    """〔{year}〕<short name>证字第{seq:04d}号, e.g. 〔2026〕厦信协证字第0001号."""
    short = re.sub(r"[{}\[\]\s]", "", event.organization.short_name or "")[:12]
    return f"〔{{year}}〕{short}{KIND_NUMBER_WORDS[kind.value]}第{{seq:04d}}号"


def default_organizers(event: Event) -> str:
    """The hosts (主办) of the event, one per line; without any, the organization's name."""
    names = event.host_names(HostRole.HOST)
    return "\n".join(names) if names else event.organization.name


def new_design(event: Event, kind: CertificateKind) -> CertificateDesign:
    """A design with the defaults (formal landscape, Chinese dates), not saved."""
    fields = layout.default_fields("formal", kind.value)
    return CertificateDesign(
        event_id=event.id, kind=kind, base="formal", orientation="landscape", preprinted=False, offset_x=0.0,
        offset_y=0.0, fields=layout.fields_to_dict(fields), date_style="chinese", issue_date=None,
        organizers_text=default_organizers(event), number_format=default_number_format(event, kind),
        number_scope="year", version=0,
    )


def design_for(event: Event, kind: CertificateKind) -> CertificateDesign:
    """The saved design, or the default one (unsaved, version 0)."""
    return get_design(event, kind) or new_design(event, kind)


@dataclass
class DesignData:
    base: str
    orientation: str
    preprinted: bool
    offset_x: float
    offset_y: float
    fields: dict[str, Field]
    date_style: str
    issue_date: date | None
    organizers_text: str
    number_format: str
    number_scope: str


def check_design_data(event: Event, kind: CertificateKind, data: DesignData, *, has_background: bool) -> list[
        tuple[str | None, str]]:
    """Every problem of ``data`` as (form field or None, message); empty when it can be saved."""
    problems: list[tuple[str | None, str]] = []
    if data.base not in layout.BASES:
        problems.append(("base", _("Choose a design.")))
        return problems
    if data.orientation not in layout.PAGE_SIZES:
        problems.append(("orientation", _("Choose landscape or portrait.")))
        return problems
    orientation = layout.orientation_of(data.base, data.orientation)  # built-in designs have their own
    if data.date_style not in dates.STYLES:
        problems.append(("date_style", _("Choose how the date is written.")))
    if data.number_scope not in numbering.SCOPES:
        problems.append(("number_scope", _("Choose a sequence per event or per year.")))
    if not -30 <= data.offset_x <= 30 or not -30 <= data.offset_y <= 30:
        problems.append(("offset_x", _("The printer offset must lie between −30 and 30 mm.")))
    if data.base == "custom" and not has_background and not data.preprinted:
        problems.append(("background", _("A custom design needs a background image (PNG or JPG from the print "
                                         "shop), or choose “pre-printed paper”.")))
    labels = field_labels()
    for problem in layout.validate(data.fields, orientation):
        problems.append((f"f-{problem.field}", layout_problem_message(problem, labels)))
    if not any(f.enabled for name, f in data.fields.items() if name != "qr"):
        problems.append((None, _("Turn on at least one text field.")))
    try:
        fmt = numbering.parse_format(data.number_format)
        if data.number_scope in numbering.SCOPES:
            numbering.check_series(fmt, data.number_scope)
    except numbering.NumberFormatError as error:
        problems.append(("number_format", number_format_message(error)))
    else:
        if data.number_scope == "event" and "event_id" not in fmt.fields:
            clash = db.session.scalar(
                sa.select(Event.title).join(CertificateDesign, CertificateDesign.event_id == Event.id).where(
                    Event.organization_id == event.organization_id, Event.id != event.id,
                    CertificateDesign.number_format == fmt.text, CertificateDesign.number_scope == "event",
                ).limit(1)
            )
            if clash is not None:
                problems.append(("number_format", _(
                    "“%(event)s” numbers its certificates with the same format and its own sequence, so the "
                    "numbers would repeat. Add {event_id} to the format, change its text, or use a sequence per "
                    "year.", event=clash)))
    if len(data.organizers_text) > 1000:
        problems.append(("organizers_text", _("At most 1000 characters.")))
    return problems


def normalize_background(raw: bytes) -> tuple[bytes, int, int]:
    """Check an uploaded background (PNG or JPG, at most 8 MB, at least 1400 × 990 pixels, A4 proportions) and
    return it as an RGB JPEG of at most 2480 pixels on the long side, with its size."""
    from PIL import Image, UnidentifiedImageError

    if len(raw) > MAX_BACKGROUND_BYTES:
        raise CertificateError("background_too_large", _("The image is larger than 8 MB."), field="background")
    if not raw:
        raise CertificateError("background_empty", _("The file is empty."), field="background")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            kind = probe.format
            probe.verify()
        if kind not in ("PNG", "JPEG"):
            raise CertificateError("background_type", _("Upload a PNG or JPG image."), field="background")
        with Image.open(io.BytesIO(raw)) as image:
            width, height = image.size
            long_side, short_side = max(width, height), min(width, height)
            if long_side < MIN_BACKGROUND[0] or short_side < MIN_BACKGROUND[1]:
                raise CertificateError("background_small", _(
                    "The image is %(w)d × %(h)d pixels: too coarse to print. Use at least %(min_w)d × %(min_h)d "
                    "(about 120 dpi on A4; the print shop's file usually has 300 dpi).",
                    w=width, h=height, min_w=MIN_BACKGROUND[0], min_h=MIN_BACKGROUND[1]), field="background")
            if abs(long_side / short_side - A4_RATIO) > A4_RATIO * RATIO_TOLERANCE:
                raise CertificateError("background_ratio", _(
                    "The image is %(w)d × %(h)d pixels, which is not the shape of an A4 page (297 × 210 mm). "
                    "Crop it to A4 proportions first.", w=width, h=height), field="background")
            image.load()
            if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.split()[3])
                image = flat
            else:
                image = image.convert("RGB")
            if long_side > MAX_BACKGROUND_SIDE:
                scale = MAX_BACKGROUND_SIDE / long_side
                image = image.resize((round(width * scale), round(height * scale)), Image.LANCZOS)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85, optimize=True)
            return out.getvalue(), image.size[0], image.size[1]
    except CertificateError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        raise CertificateError("background_type", _("This file is not a PNG or JPG image (or it is damaged)."),
                               field="background") from None


def save_design(event: Event, kind: CertificateKind, data: DesignData, *, seen_version: int,
                background: bytes | None = None, remove_background: bool = False, actor, now: datetime
                ) -> CertificateDesign:
    """Save the event's design of ``kind`` (create it on first save). ``seen_version`` is the version the
    organizer edited: if someone saved in between, nothing is saved (409). Raises CertificateError."""
    design = get_design(event, kind)
    image = normalize_background(background) if background is not None else None
    has_background = image is not None or (design is not None and design.background_sha is not None
                                           and not remove_background)
    problems = check_design_data(event, kind, data, has_background=has_background)
    if problems:
        field_name, message = problems[0]
        error = CertificateError("design_invalid", message, field=field_name)
        error.problems = problems  # type: ignore[attr-defined]
        raise error
    values = dict(
        base=data.base, orientation=layout.orientation_of(data.base, data.orientation),
        preprinted=data.preprinted, offset_x=round(data.offset_x, 1), offset_y=round(data.offset_y, 1),
        fields=layout.fields_to_dict(data.fields), date_style=data.date_style, issue_date=data.issue_date,
        organizers_text=layout.printable(data.organizers_text).strip(), number_format=numbering.parse_format(data.number_format).text,
        number_scope=data.number_scope, updated_at=now, updated_by_id=getattr(actor, "id", None),
    )
    if image is not None:
        import hashlib

        values.update(background=image[0], background_sha=hashlib.sha256(image[0]).hexdigest(),
                      background_width=image[1], background_height=image[2])
        if data.base == "custom":
            values["orientation"] = "landscape" if image[1] >= image[2] else "portrait"
    elif remove_background:
        values.update(background=None, background_sha=None, background_width=None, background_height=None)
    if design is None:
        if seen_version != 0:
            raise CertificateError("design_changed", _("Someone else changed this design meanwhile. Reload the "
                                                       "page and make your changes again."), status=409)
        design = CertificateDesign(event_id=event.id, kind=kind, version=1, **values)
        db.session.add(design)
        db.session.flush()
        action = "certificate.design_created"
    else:
        changed = db.session.execute(
            sa.update(CertificateDesign)
            .where(CertificateDesign.id == design.id, CertificateDesign.version == seen_version)
            .values(version=CertificateDesign.version + 1, **values)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        if not changed:
            raise CertificateError("design_changed", _("Someone else changed this design meanwhile. Reload the "
                                                       "page and make your changes again."), status=409)
        db.session.refresh(design)
        action = "certificate.design_saved"
    record_audit(actor=actor, organization_id=event.organization_id, action=action, obj=design, now=now,
                 event_id=event.id, kind=kind.value, version=design.version, base=design.base,
                 background="new" if image is not None else ("removed" if remove_background else None))
    return design


def design_spec(design: CertificateDesign, *, fields: dict[str, Field] | None = None) -> render.DesignSpec:
    return render.DesignSpec(
        base=design.base, orientation=layout.orientation_of(design.base, design.orientation),
        fields=fields if fields is not None else layout.fields_from_dict(design.fields or {}),
        preprinted=bool(design.preprinted), offset=(float(design.offset_x or 0), float(design.offset_y or 0)),
        background=design.background if design.base == "custom" and design.background_sha else None,
    )


# ---------------------------------------------------------------- what is printed


def event_days(event: Event) -> tuple[date, date]:
    return (utc_to_local(event.starts_at, event.timezone).date(), utc_to_local(event.ends_at, event.timezone).date())


def printed_date(event: Event, design: CertificateDesign) -> date:
    """The date printed on certificates of ``design``: its own, or the event's last day."""
    return design.issue_date or event_days(event)[1]


def placeholder_values(event: Event, design: CertificateDesign, *, holder: str, unit: str = "", members: str = "",
                       award: str = "", competition: str = "", group: str = "", issued_on: date, number: str,
                       code: str) -> dict[str, str]:
    start, end = event_days(event)
    return {
        "holder": holder, "unit": unit, "members": members, "award": award, "role": award,
        "competition": competition, "group": group, "event": event.title, "organization": event.organization.name,
        "organizers": design.organizers_text or default_organizers(event),
        "dates": dates.date_range(start, end, design.date_style),
        "date": dates.format_date(issued_on, design.date_style), "number": number, "code": code,
    }


def certificate_values(certificate: Certificate, design: CertificateDesign) -> dict[str, str]:
    return placeholder_values(
        certificate.event, design, holder=certificate.holder_name, unit=certificate.unit,
        members=certificate.members, award=certificate.award, competition=certificate.competition,
        group=certificate.group_name, issued_on=certificate.issued_on, number=certificate.number,
        code=certificate.verify_code,
    )


def holder_values(event: Event, design: CertificateDesign, holder: Holder, *, number: str = "", code: str = ""
                  ) -> dict[str, str]:
    return placeholder_values(
        event, design, holder=holder.name, unit=holder.unit, members=holder.members, award=holder.award,
        competition=holder.competition, group=holder.group, issued_on=printed_date(event, design), number=number,
        code=code,
    )


def public_url(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def verify_path(code: str) -> str:
    return current_app.url_map.bind("localhost").build("certificates_public.verify", {"code": code})


def verify_url(code: str) -> str:
    """The absolute address the QR code opens (BASE_URL + /verify/<code>)."""
    return public_url(verify_path(code))


def page_content(certificate: Certificate, design: CertificateDesign) -> render.PageContent:
    return render.PageContent(values=certificate_values(certificate, design), qr_url=verify_url(certificate.verify_code),
                              subject=certificate.holder_name)


def font_path() -> str:
    return current_app.config.get("CERTIFICATE_FONT") or current_app.config.get("TICKET_PDF_FONT") or \
        render.DEFAULT_FONT_PATH


def document_title(event: Event, kind: CertificateKind) -> str:
    return f"{event.title} · {KIND_LABELS[kind]}"


def certificate_pdf(certificate: Certificate, design: CertificateDesign | None = None) -> bytes:
    """One certificate as a one-page PDF (rendered now, with the event's current design)."""
    design = design or design_for(certificate.event, certificate.kind)
    return render.render_pdf(design_spec(design), [page_content(certificate, design)], font_path=font_path(),
                             title=f"{certificate.number} {certificate.holder_name}",
                             author=certificate.event.organization.name)


# ---------------------------------------------------------------- numbers and codes


def _insert_ignore(table, **values) -> None:
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(table).values(**values).on_conflict_do_nothing())


def allocate_numbers(organization_id: int, scope_key: str, number_format: str, count: int) -> range:
    """Take ``count`` consecutive sequence numbers of the series; returns them as a range.

    One ``UPDATE … SET last_seq = last_seq + count … RETURNING last_seq``: PostgreSQL locks the counter row until
    the transaction ends, SQLite the whole database, so two batches never get the same numbers; numbers of a
    transaction that rolls back are given back with it (no gap)."""
    if count <= 0:
        return range(0)
    _insert_ignore(NumberCounter.__table__, organization_id=organization_id, scope_key=scope_key,
                   number_format=number_format, last_seq=0)
    last = db.session.execute(
        sa.update(NumberCounter)
        .where(NumberCounter.organization_id == organization_id, NumberCounter.scope_key == scope_key,
               NumberCounter.number_format == number_format)
        .values(last_seq=NumberCounter.last_seq + count)
        .returning(NumberCounter.last_seq)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return range(last - count + 1, last + 1)


def new_verify_code() -> str:
    return "".join(secrets.choice(VERIFY_ALPHABET) for _ in range(VERIFY_LENGTH))


def normalize_code(text: str) -> str:
    """What someone typed or scanned, as a verify code: upper case, without spaces and dashes; O→0 is not
    needed (the alphabet has neither O nor 0)."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s\-]", "", text).upper()[:32]


# ---------------------------------------------------------------- issuing


@dataclass
class IssueOutcome:
    certificates: list[Certificate] = field(default_factory=list)  # in the holders' order; revoked ones left out
    issued: int = 0  # new certificates
    existing: int = 0  # issued before (same holder, event and kind): not issued again
    revoked: list[Certificate] = field(default_factory=list)  # issued before and revoked: left out


def check_holders(holders: list[Holder]) -> None:
    if not holders:
        raise CertificateError("no_holders", _("Nobody to issue certificates to."), status=422)
    if len(holders) > MAX_HOLDERS:
        raise CertificateError("too_many", _("At most %(n)d certificates in one batch.", n=MAX_HOLDERS))
    for holder in holders:
        if not holder.name.strip():
            raise CertificateError("empty_name", _("A holder has no name. Nothing was issued."))


def issue(event: Event, kind: CertificateKind, holders: list[Holder], *, design: CertificateDesign, actor,
          now: datetime, task_id: int | None = None) -> IssueOutcome:
    """Issue a certificate to each holder who has none of this kind for this event yet; return all of them.

    Two batches racing over the same holder: one insert fails on the unique constraint and its whole unit of work
    rolls back (the caller runs it again, and then finds the other batch's certificate)."""
    check_holders(holders)
    keys = [h.key for h in holders]
    found = {
        c.holder_key: c for c in db.session.scalars(sa.select(Certificate).where(
            Certificate.event_id == event.id, Certificate.kind == kind, Certificate.holder_key.in_(keys)))
    }
    fresh = [h for h in holders if h.key not in found]
    outcome = IssueOutcome(existing=len(holders) - len(fresh))
    if fresh:
        fmt = numbering.parse_format(design.number_format)
        issued_on = printed_date(event, design)
        scope_key = numbering.scope_key(design.number_scope, year=issued_on.year, event_id=event.id)
        seqs = allocate_numbers(event.organization_id, scope_key, fmt.text, len(fresh))
        numbers = [fmt.render(seq=seq, year=issued_on.year, event_id=event.id) for seq in seqs]
        taken = set(db.session.scalars(sa.select(Certificate.number).where(
            Certificate.organization_id == event.organization_id, Certificate.number.in_(numbers))))
        if taken:
            raise CertificateError("number_taken", _(
                "Certificate number %(number)s has been given to another certificate already (another design "
                "prints numbers the same way). Change the number format. Nothing was issued.",
                number=sorted(taken)[0]), status=409)
        for holder, seq, number in zip(fresh, seqs, numbers):
            certificate = Certificate(
                organization_id=event.organization_id, event_id=event.id, kind=kind, holder_key=holder.key,
                registration_id=holder.registration_id, entrant_id=holder.entrant_id, user_id=holder.user_id,
                holder_name=clean(holder.name, 100), unit=clean(holder.unit, 200), members=clean(holder.members, 300),
                award=clean(holder.award, 100), competition=clean(holder.competition, 200),
                group_name=clean(holder.group, 60), issued_on=issued_on, number=number, seq=seq,
                scope_key=scope_key, number_format=fmt.text, verify_code=new_verify_code(),
                status=CertificateStatus.VALID, issued_at=now, issued_by_id=getattr(actor, "id", None),
                task_id=task_id, revision=1,
            )
            db.session.add(certificate)
            found[holder.key] = certificate
        db.session.flush()
        outcome.issued = len(fresh)
        record_audit(actor=actor, organization_id=event.organization_id, action="certificates.issued", obj=event,
                     now=now, kind=kind.value, count=len(fresh), first=numbers[0], last=numbers[-1], task_id=task_id)
    for holder in holders:
        certificate = found[holder.key]
        if certificate.status == CertificateStatus.REVOKED:
            outcome.revoked.append(certificate)
        else:
            outcome.certificates.append(certificate)
    return outcome


def ensure_design(event: Event, kind: CertificateKind, *, actor, now: datetime) -> CertificateDesign:
    """The saved design; the default one is saved first if the organizer never opened the design page."""
    design = get_design(event, kind)
    if design is not None:
        return design
    default = new_design(event, kind)
    data = DesignData(
        base=default.base, orientation=default.orientation, preprinted=False, offset_x=0.0, offset_y=0.0,
        fields=layout.fields_from_dict(default.fields), date_style=default.date_style, issue_date=None,
        organizers_text=default.organizers_text, number_format=default.number_format,
        number_scope=default.number_scope,
    )
    return save_design(event, kind, data, seen_version=0, actor=actor, now=now)


# ---------------------------------------------------------------- before printing: font and fit


@dataclass
class Preflight:
    count: int
    missing: list  # glyphs.MissingCharacter
    longest: Holder | None  # the holder whose name is widest in the font
    overflow: list[str]  # fields that do not fit for the longest name, even shrunk


def longest_holder(holders: list[Holder]) -> Holder | None:
    if not holders:
        return None
    measure = render_measure()
    return max(holders, key=lambda h: (measure(h.name), len(h.unit)))


def render_measure():
    font = render.font_name(font_path())
    from reportlab.pdfbase import pdfmetrics

    face = pdfmetrics.getFont(font)
    return lambda text: face.stringWidth(text, 1.0)


def preflight(event: Event, design: CertificateDesign, holders: list[Holder]) -> Preflight:
    """What would go wrong when printing these holders: characters the font lacks (in any printed text) and
    fields that do not fit for the widest name."""
    from certificates import glyphs

    render.font_name(font_path())  # FontError when the font is missing or not TrueType
    spec = design_spec(design)
    fmt_sample = design.number_format
    try:
        fmt_sample = numbering.parse_format(design.number_format).render(
            seq=1, year=printed_date(event, design).year, event_id=event.id)
    except numbering.NumberFormatError:
        pass
    texts: list[str] = []
    for holder in holders:
        values = holder_values(event, design, holder, number=fmt_sample, code=VERIFY_ALPHABET[:VERIFY_LENGTH])
        texts.extend(render.texts_of(spec, render.PageContent(values=values)).values())
    missing = glyphs.missing_characters(texts, glyphs.font_characters(font_path()))
    longest = longest_holder(holders)
    overflow: list[str] = []
    if longest is not None:
        measure = render_measure()
        values = holder_values(event, design, longest, number=fmt_sample, code=VERIFY_ALPHABET[:VERIFY_LENGTH])
        for name, f in spec.fields.items():
            if f.enabled and not f.is_qr:
                text = layout.fill_template(f.text, values)
                if text.strip() and layout.fit(text, width_mm=f.width, max_lines=f.lines, size=f.size,
                                               measure=measure).overflow:
                    overflow.append(name)
    return Preflight(count=len(holders), missing=missing, longest=longest, overflow=overflow)


def missing_glyphs_message(missing) -> str:
    parts = [_("%(char)s (%(code)s) in %(texts)s", char=m.char, code=m.codepoint,
               texts="、".join(m.texts[:3]) + ("…" if m.count > 3 else "")) for m in missing[:5]]
    return _("The font has no glyph for these characters, so they would print as empty boxes: %(list)s. Correct "
             "the names (or type a common variant) first. Nothing was issued.", list="; ".join(parts))


def start_batch(event: Event, kind: CertificateKind, holders: list[Holder], *, order: str, actor,
                now: datetime, source: str = ""):
    """Check everything that can be checked before printing and queue the batch task (issue, render, merge,
    zip). Raises CertificateError with nothing issued: no holders, an empty name, a character the font lacks.
    No commit."""
    from tasks import services as task_services

    check_holders(holders)
    holders = sort_holders(holders, order)
    design = ensure_design(event, kind, actor=actor, now=now)
    check = preflight(event, design, holders)
    if check.missing:
        raise CertificateError("missing_glyphs", missing_glyphs_message(check.missing))
    params = {"kind": kind.value, "order": order, "source": source, "design_version": design.version,
              "holders": [h.to_dict() for h in holders]}
    return task_services.start_task(BATCH_KIND, event=event, actor=actor, params=params, now=now,
                                    total=len(holders))


# ---------------------------------------------------------------- reissue, revoke


@dataclass
class HolderChanges:
    holder_name: str
    unit: str
    members: str
    award: str
    competition: str
    group_name: str


def reissue(certificate: Certificate, changes: HolderChanges, *, reason: str, actor, now: datetime) -> Certificate:
    """Correct what is printed (a misspelt name, a wrong unit) and make a new PDF with the same number. Logged
    with the old and new values."""
    if certificate.status != CertificateStatus.VALID:
        raise CertificateError("revoked", _("This certificate has been revoked; it cannot be reissued."),
                               status=409)
    values = {
        "holder_name": clean(changes.holder_name, 100), "unit": clean(changes.unit, 200),
        "members": clean(changes.members, 300), "award": clean(changes.award, 100),
        "competition": clean(changes.competition, 200), "group_name": clean(changes.group_name, 60),
    }
    if not values["holder_name"]:
        raise CertificateError("empty_name", _("Enter the holder's name."), field="holder_name")
    reason = clean(reason, MAX_REASON)
    design = design_for(certificate.event, certificate.kind)
    missing = preflight(certificate.event, design, [Holder(
        key=certificate.holder_key, name=values["holder_name"], unit=values["unit"], members=values["members"],
        award=values["award"], competition=values["competition"], group=values["group_name"])]).missing
    if missing:
        raise CertificateError("missing_glyphs", missing_glyphs_message(missing), field="holder_name")
    before = {k: getattr(certificate, k) for k in values}
    seen = certificate.revision
    changed = db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.revision == seen,
               Certificate.status == CertificateStatus.VALID)
        .values(revision=seen + 1, reissued_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not changed:
        raise CertificateError("changed", _("This certificate was changed meanwhile. Reload the page."),
                               status=409)
    db.session.refresh(certificate)
    record_audit(actor=actor, organization_id=certificate.organization_id, action="certificate.reissued",
                 obj=certificate, now=now, number=certificate.number, revision=seen + 1, reason=reason or None,
                 before={k: v for k, v in before.items() if v != values[k]},
                 after={k: v for k, v in values.items() if v != before[k]})
    return certificate


def revoke(certificate: Certificate, *, reason: str, actor, now: datetime) -> Certificate:
    """Revoke with a reason: the verification page says “revoked” from now on. Logged."""
    reason = clean(reason, MAX_REASON)
    if not reason:
        raise CertificateError("reason_required", _("Give the reason for revoking."), field="reason")
    changed = db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.status == CertificateStatus.VALID)
        .values(status=CertificateStatus.REVOKED, revoked_at=now, revoked_by_id=getattr(actor, "id", None),
                revoke_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not changed:
        raise CertificateError("already_revoked", _("This certificate has already been revoked."), status=409)
    db.session.refresh(certificate)
    record_audit(actor=actor, organization_id=certificate.organization_id, action="certificate.revoked",
                 obj=certificate, now=now, number=certificate.number, reason=reason)
    return certificate


# ---------------------------------------------------------------- verification


def find_by_code(code: str) -> Certificate | None:
    code = normalize_code(code)
    if not code or len(code) > 16:
        return None
    return db.session.scalar(sa.select(Certificate).where(Certificate.verify_code == code))


def _loose(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def find_by_number(number: str, holder_name: str) -> list[Certificate]:
    """Certificates with this number (or verify code) *and* this holder's name, both as printed: a number alone
    tells a stranger nothing about who holds it."""
    number, holder_name = (number or "").strip()[:100], _loose(holder_name)[:100]
    if not number or not holder_name:
        return []
    wanted_numbers = {number, unicodedata.normalize("NFKC", number)}
    found = list(db.session.scalars(
        sa.select(Certificate).where(sa.or_(Certificate.number.in_(wanted_numbers),
                                            Certificate.verify_code == normalize_code(number)))
        .order_by(Certificate.id).limit(20)
    ))
    return [c for c in found if _loose(c.holder_name) == holder_name]


def verification_json(certificate: Certificate) -> dict:
    """The public facts (all printed on the certificate). ``issued_at`` is the date printed on it."""
    return {
        "number": certificate.number,
        "holder": certificate.holder_name,
        "award": certificate.award or None,
        "event": certificate.event.title,
        "issued_at": certificate.issued_on.isoformat(),
        "valid": certificate.is_valid,
        "kind": certificate.kind.value,
        "issuer": certificate.event.organization.name,
    }


# ---------------------------------------------------------------- "your certificate is ready"


def download_token(certificate: Certificate) -> str:
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="saihui.certificate-download").dumps(
        [certificate.id, certificate.verify_code])


def certificate_from_token(token: str) -> Certificate | None:
    from itsdangerous import BadSignature, URLSafeSerializer

    try:
        certificate_id, code = URLSafeSerializer(current_app.config["SECRET_KEY"],
                                                 salt="saihui.certificate-download").loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    certificate = db.session.get(Certificate, certificate_id) if isinstance(certificate_id, int) else None
    if certificate is None or certificate.verify_code != code:
        return None
    return certificate


def download_url(certificate: Certificate) -> str:
    path = current_app.url_map.bind("localhost").build("certificates_public.download",
                                                      {"token": download_token(certificate)})
    return public_url(path)


def queue_ready_messages(event: Event, kind: CertificateKind | None, *, actor, now: datetime) -> tuple[int, int]:
    """Queue a “your certificate is ready” message for every valid certificate of a sign-up (at most once per
    certificate). Returns (queued, already queued or without a sign-up)."""
    from notifications.services import queue_registration_message
    from registration.models import Registration

    query = (sa.select(Certificate).where(Certificate.event_id == event.id,
                                          Certificate.status == CertificateStatus.VALID,
                                          Certificate.registration_id.is_not(None))
             .order_by(Certificate.id))
    if kind is not None:
        query = query.where(Certificate.kind == kind)
    queued = skipped = 0
    for certificate in db.session.scalars(query):
        registration = db.session.get(Registration, certificate.registration_id)
        if registration is None:
            skipped += 1
            continue
        message = queue_registration_message(registration, "certificate_ready", now=now,
                                             extra={"link": download_url(certificate)},
                                             occasion=f"cert{certificate.id}")
        if message is None:
            skipped += 1
        else:
            queued += 1
    if queued:
        record_audit(actor=actor, organization_id=event.organization_id, action="certificates.ready_messages",
                     obj=event, now=now, kind=kind.value if kind else None, queued=queued)
    return queued, skipped


def registration_certificates(registration_id: int) -> list[Certificate]:
    """The valid certificates of one sign-up (for its manage page)."""
    return list(db.session.scalars(
        sa.select(Certificate).where(Certificate.registration_id == registration_id,
                                     Certificate.status == CertificateStatus.VALID)
        .order_by(Certificate.kind, Certificate.id)
    ))


def counts_by_kind(event_id: int) -> dict[str, dict[str, int]]:
    rows = db.session.execute(
        sa.select(Certificate.kind, Certificate.status, sa.func.count(Certificate.id))
        .where(Certificate.event_id == event_id).group_by(Certificate.kind, Certificate.status)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for kind, status, n in rows:
        out.setdefault(kind.value, {})[status.value] = n
    return out
