"""Organizer pages of certificates: the overview, a design with its live preview and calibration page, issuing a
batch (checked before anything is issued), one certificate (PDF, reissue, revoke), the batch ZIP, and the
"certificate ready" messages.

Access: whoever may manage the event (organizers and admins of its organization). Someone with another role in the
organization gets 403; anyone else 404, so other organizations cannot learn the event exists.
"""
from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, make_response, redirect, render_template, request, \
    send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from certificates import forms, layout, numbering, render, services, sources
from certificates.models import Certificate, CertificateKind, CertificateStatus
from core.database import run_write
from core.errors import DomainError
from core.models import AuditEntry
from core.types import utcnow
from events.views import get_managed_event
from extensions import db
from tasks import files
from tasks import services as task_services
from tasks.models import BackgroundTask, TaskState

bp = Blueprint("certificates", __name__, url_prefix="/manage/events/<int:event_id>/certificates")

KIND_VALUES = [k.value for k in CertificateKind]
MAX_LIST = 200
SAMPLE = sources.Holder(key="sample", name="王喆", unit="厦门大学信息科学与技术学院", award="一等奖",
                        competition="云计算", group="高职组")
LONG_SAMPLE = sources.Holder(key="sample-long", name="欧阳娜娜·买买提艾力", unit="福建省厦门第一中学海沧校区信息技术教研组",
                             award="一等奖", competition="云计算", group="高职组")


def _kind(value: str) -> CertificateKind:
    try:
        return CertificateKind(value)
    except ValueError:
        abort(404)


def _certificate(event, certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.event_id != event.id:
        abort(404)
    return certificate


def _font_unavailable(error: render.FontError):
    current_app.logger.error("certificates: font %s is %s; install %s or set CERTIFICATE_FONT", error.path,
                             error.reason, render.FONT_PACKAGE)
    message = _("Certificates cannot be printed right now: the server lacks the Chinese font they need. (For the "
                "administrator: install the %(package)s package, or set CERTIFICATE_FONT to a TrueType font file.)",
                package=render.FONT_PACKAGE)
    return render_template("errors/generic.html", status=503, message=message), 503


@bp.errorhandler(render.FontError)
def font_error(error):
    return _font_unavailable(error)


# ---------------------------------------------------------------- overview


@bp.route("")
@login_required
def index(event_id: int):
    event = get_managed_event(event_id)
    kind = request.args.get("kind", "")
    status = request.args.get("status", "")
    q = (request.args.get("q") or "").strip()[:100]
    query = sa.select(Certificate).where(Certificate.event_id == event.id)
    if kind in KIND_VALUES:
        query = query.where(Certificate.kind == CertificateKind(kind))
    if status in ("valid", "revoked"):
        query = query.where(Certificate.status == CertificateStatus(status))
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(sa.or_(Certificate.holder_name.like(like), Certificate.number.like(like),
                                   Certificate.unit.like(like), Certificate.verify_code == services.normalize_code(q)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    certificates = list(db.session.scalars(query.order_by(Certificate.kind, Certificate.seq, Certificate.id)
                                            .limit(MAX_LIST)))
    designs = {k.value: services.get_design(event, k) for k in CertificateKind}
    batches = task_services.event_tasks(event.id, kind=services.BATCH_KIND, limit=10)
    notify_form = forms.NotifyForm()
    notify_form.kind.choices = [("", _("All kinds"))] + [(k.value, str(services.KIND_LABELS[k]))
                                                          for k in CertificateKind]
    return render_template(
        "certificates/index.html", event=event, certificates=certificates, total=total, designs=designs,
        counts=services.counts_by_kind(event.id), kinds=list(CertificateKind), kind_labels=services.KIND_LABELS,
        filters={"kind": kind, "status": status, "q": q}, batches=batches, notify_form=notify_form,
        zip_available={t.id: _zip_path(t) is not None for t in batches}, max_list=MAX_LIST,
    )


# ---------------------------------------------------------------- design


def _design_data(form: forms.DesignForm, fields: dict[str, layout.Field]) -> services.DesignData:
    return services.DesignData(
        base=form.base.data, orientation=form.orientation.data, preprinted=bool(form.preprinted.data),
        offset_x=float(form.offset_x.data or 0.0), offset_y=float(form.offset_y.data or 0.0), fields=fields,
        date_style=form.date_style.data, issue_date=form.issue_date.data,
        organizers_text=(form.organizers_text.data or "").replace("\r\n", "\n"),
        number_format=(form.number_format.data or "").strip(), number_scope=form.number_scope.data,
    )


def _fill_design_form(form: forms.DesignForm, design) -> None:
    form.version.data = design.version
    form.base.data = design.base
    form.orientation.data = design.orientation
    form.preprinted.data = design.preprinted
    form.offset_x.data = design.offset_x
    form.offset_y.data = design.offset_y
    form.date_style.data = design.date_style
    form.issue_date.data = design.issue_date
    form.organizers_text.data = design.organizers_text
    form.number_format.data = design.number_format
    form.number_scope.data = design.number_scope


def candidate_holders(event, kind: CertificateKind) -> list[sources.Holder]:
    """The people a batch of ``kind`` would most likely print (for the longest-name preview and the font check
    on the design page): checked-in attendees, the organization's judges, or every competition entrant."""
    if kind in (CertificateKind.PARTICIPATION, CertificateKind.TRAINING):
        return sources.checked_in_holders(event)
    if kind == CertificateKind.APPOINTMENT:
        return sources.judge_holders(event)
    from competition.models import Competition, Entrant

    rows = db.session.execute(
        sa.select(Entrant, Competition.title).join(Competition, Competition.id == Entrant.competition_id)
        .where(Competition.event_id == event.id).limit(5000)
    ).all()
    return [sources.Holder(key=f"entrant:{e.id}", name=sources.clean(e.name, 100), unit=sources.clean(e.unit, 200),
                           members="、".join(e.members or []) if e.is_team else "", award="一等奖",
                           competition=title, group=e.group.name if e.group is not None else "")
            for e, title in rows]


def _sample_holder(event, kind: CertificateKind, which: str) -> sources.Holder:
    if which == "longest":
        return services.longest_holder(candidate_holders(event, kind)) or LONG_SAMPLE
    if kind == CertificateKind.APPOINTMENT:
        return sources.Holder(key="sample", name=SAMPLE.name, unit=SAMPLE.unit, award="评委")
    return SAMPLE


def _preview_png(event, design, kind: CertificateKind, which: str, fields=None) -> tuple[bytes, list[str]]:
    holder = _sample_holder(event, kind, which)
    number = design.number_format
    try:
        number = numbering.parse_format(design.number_format).render(
            seq=1, year=services.printed_date(event, design).year, event_id=event.id)
    except numbering.NumberFormatError:
        pass
    code = "SAMPLE2345"
    values = services.holder_values(event, design, holder, number=number, code=code)
    report = render.RenderReport()
    content = render.PageContent(values=values, qr_url=services.verify_url(code))
    spec = services.design_spec(design, fields=fields)
    try:
        pdf = render.render_pdf(spec, [content], font_path=services.font_path(), check=False, report=report,
                                title=_("Preview"))
        png = render.pdf_to_png(pdf, dpi=72)
    except render.PreviewError:
        current_app.logger.exception("certificate preview failed")
        raise DomainError("preview_failed", _("The preview could not be made (is poppler-utils installed?)."),
                          status=503)
    return png, sorted({name for _i, name in report.overflow})


def _png_response(png: bytes, overflow: list[str]):
    response = make_response(png)
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Certificate-Overflow"] = ",".join(overflow)
    return response


@bp.route("/designs/<cert_kind>", methods=["GET", "POST"])
@login_required
def design(event_id: int, cert_kind: str):
    event = get_managed_event(event_id)
    kind = _kind(cert_kind)
    current = services.design_for(event, kind)
    form = forms.DesignForm()
    fields = layout.fields_from_dict(current.fields or {})
    status = 200
    problems: list[tuple[str | None, str]] = []
    if request.method == "POST":
        fields, unreadable = forms.read_fields(request.form, fields)
        if request.form.get("reset_layout") and form.base.data in layout.BASES:
            defaults = layout.default_fields(form.base.data, kind.value, form.orientation.data)
            fields = {name: layout.Field(name=name, enabled=fields[name].enabled, text=fields[name].text,
                                         x=d.x, y=d.y, width=d.width, size=d.size, align=d.align, lines=d.lines)
                      for name, d in defaults.items()}
        if form.validate_on_submit() and not unreadable:
            upload = form.background.data
            raw = upload.read(services.MAX_BACKGROUND_BYTES + 1) if upload and getattr(upload, "filename", "") else None

            def work():
                design = services.save_design(
                    event, kind, _design_data(form, fields), seen_version=form.version.data or 0, background=raw,
                    remove_background=bool(form.remove_background.data), actor=current_user, now=utcnow())
                db.session.commit()
                return design

            try:
                run_write(db.session, work)
            except services.CertificateError as error:
                db.session.rollback()
                problems = getattr(error, "problems", None) or [(error.field, error.message)]
                status = error.status
            except IntegrityError:  # two first saves at once: the other one made the design
                db.session.rollback()
                problems = [(None, _("Someone else changed this design meanwhile. Reload the page and make your "
                                     "changes again."))]
                status = 409
            else:
                flash(_("The design has been saved."), "success")
                return redirect(url_for("certificates.design", event_id=event.id, cert_kind=kind.value))
        else:
            status = 422
            for name in unreadable:
                problems.append((f"f-{name}", _("%(field)s: the position and size must be numbers.",
                                                field=services.field_labels()[name])))
    else:
        _fill_design_form(form, current)
    for field_name, message in problems:
        target = getattr(form, field_name, None) if field_name else None
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + [message]
    field_problems = {name: msg for name, msg in problems if name and name.startswith("f-")}
    general = [msg for name, msg in problems if not name or (not name.startswith("f-") and not hasattr(form, name))]
    check = None
    if request.method == "GET":
        try:
            check = services.preflight(event, current, candidate_holders(event, kind))
        except render.FontError as error:
            current_app.logger.error("certificates: font %s is %s", error.path, error.reason)
            flash(_("The server lacks the Chinese font certificates need, so nothing can be previewed or printed. "
                    "(For the administrator: install the %(package)s package, or set CERTIFICATE_FONT to a "
                    "TrueType font file.)", package=render.FONT_PACKAGE), "error")
    return render_template(
        "certificates/design.html", event=event, kind=kind, kind_label=services.KIND_LABELS[kind], form=form,
        design=current, fields=fields, field_names=layout.FIELD_NAMES, labels=services.field_labels(),
        placeholders=layout.PLACEHOLDERS, field_problems=field_problems, general_problems=general, check=check,
        saved=current.version > 0,
    ), status


@bp.route("/designs/<cert_kind>/preview.png", methods=["GET", "POST"])
@login_required
def preview(event_id: int, cert_kind: str):
    """GET: the saved design (or the default); POST: the design as posted from the editor, not saved (the live
    preview). ``sample=longest`` uses the widest real name of the likely batch. Answers a PNG; a posted design
    that cannot be printed answers 422 with its problems as JSON."""
    event = get_managed_event(event_id)
    kind = _kind(cert_kind)
    which = "longest" if request.values.get("sample") == "longest" else "sample"
    design = services.design_for(event, kind)
    if request.method == "GET":
        png, overflow = _preview_png(event, design, kind, which)
        return _png_response(png, overflow)
    form = forms.DesignForm()
    fields, unreadable = forms.read_fields(request.form, layout.fields_from_dict(design.fields or {}))
    labels = services.field_labels()
    if not form.validate_on_submit() or unreadable:
        messages = [str(e) for errors in form.errors.values() for e in errors]
        messages += [_("%(field)s: the position and size must be numbers.", field=labels[n]) for n in unreadable]
        return _preview_problems(messages)
    data = _design_data(form, fields)
    problems = services.check_design_data(event, kind, data, has_background=True)
    if problems:
        return _preview_problems([message for _f, message in problems])
    draft = services.new_design(event, kind)
    for name in ("base", "preprinted", "offset_x", "offset_y", "date_style", "issue_date", "organizers_text",
                 "number_format", "number_scope"):
        setattr(draft, name, getattr(data, name))
    draft.orientation = layout.orientation_of(data.base, data.orientation)
    if data.base == "custom" and design.background_sha:
        draft.orientation = design.orientation
        draft.background, draft.background_sha = design.background, design.background_sha
    png, overflow = _preview_png(event, draft, kind, which, fields=fields)
    db.session.rollback()  # the draft is never saved
    return _png_response(png, overflow)


def _preview_problems(messages: list[str]):
    """Why a posted draft cannot be previewed: JSON for the editor's script, a page for anyone else."""
    if request.headers.get("X-Requested-With") == "fetch":
        return jsonify({"errors": messages}), 422
    return render_template("errors/generic.html", status=422, message=" ".join(messages)), 422


@bp.route("/designs/<cert_kind>/calibration.pdf")
@login_required
def calibration(event_id: int, cert_kind: str):
    event = get_managed_event(event_id)
    kind = _kind(cert_kind)
    design = services.design_for(event, kind)
    labels = render.CalibrationLabels(
        heading=_("Calibration page for pre-printed paper"),
        instructions=(
            _("1. Print this page on plain paper at 100 % (no “fit to page”)."),
            _("2. Lay it on a pre-printed certificate sheet and hold both against a window."),
            _("3. Measure how far the dashed boxes sit from the blanks on the sheet."),
            _("4. Enter that distance as the printer offset (right and down; left and up are negative)."),
        ),
        offset=_("Current offset"),
    )
    pdf = render.render_calibration(services.design_spec(design), labels, font_path=services.font_path(),
                                    field_labels=services.field_labels())
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="calibration-{kind.value}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- issuing


def _holders_for(event, kind: CertificateKind, form: forms.IssueForm) -> list[sources.Holder]:
    source = form.source.data
    if source not in forms.SOURCES_BY_KIND[kind.value]:
        raise services.CertificateError("source", _("Choose who gets a certificate."), field="source")
    if source == "checked_in":
        return sources.checked_in_holders(event)
    if source == "selected":
        ids = [int(v) for v in request.form.getlist("registration_ids") if v.isdigit()][:sources.MAX_HOLDERS]
        return sources.checked_in_holders(event, registration_ids=ids)
    if source == "judges":
        return sources.judge_holders(event, form.role.data or "")
    if source == "typed":
        holders = sources.typed_holders(form.names.data or "")
        if kind == CertificateKind.APPOINTMENT and form.role.data:
            holders = [replace(h, award=h.award or sources.clean(form.role.data, 100)) for h in holders]
        return holders
    from competition.models import Competition

    competition = db.session.get(Competition, form.competition_id.data or 0)
    if competition is None or competition.event_id != event.id:
        raise services.CertificateError("competition", _("Choose a competition of this event."),
                                        field="competition_id")
    return sources.award_holders(competition)


def _issue_form(event, kind: CertificateKind) -> forms.IssueForm:
    from competition.models import Competition

    form = forms.IssueForm()
    allowed = forms.SOURCES_BY_KIND[kind.value]
    form.source.choices = [(value, forms.SOURCES[value]) for value in allowed]
    if form.source.data is None:
        form.source.data = allowed[0]
    form.competition_id.choices = [(c.id, c.title) for c in db.session.scalars(
        sa.select(Competition).where(Competition.event_id == event.id).order_by(Competition.position, Competition.id))]
    return form


@bp.route("/issue/<cert_kind>", methods=["GET", "POST"])
@login_required
def issue(event_id: int, cert_kind: str):
    """Choose who gets a certificate; “Check” shows the count, the widest name and any character the font lacks
    without issuing anything; “Issue” checks the same and starts the batch (then the progress page)."""
    event = get_managed_event(event_id)
    kind = _kind(cert_kind)
    form = _issue_form(event, kind)
    check = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                holders = _holders_for(event, kind, form)
                services.check_holders(holders)
                if request.form.get("action") == "issue":
                    def work():
                        task = services.start_batch(event, kind, holders, order=form.order.data,
                                                    actor=current_user, now=utcnow(), source=form.source.data)
                        db.session.commit()
                        return task.id

                    try:
                        task_id = run_write(db.session, work)
                    except IntegrityError:  # the default design was saved by a batch started at the same moment
                        db.session.rollback()
                        task_id = run_write(db.session, work)
                    flash(_("The batch has started. You may leave this page; the certificates are made in the "
                            "background."), "success")
                    return redirect(url_for("tasks.task_detail", task_id=task_id))
                check = services.preflight(event, services.design_for(event, kind), holders)
            except DomainError as error:
                db.session.rollback()
                status = error.status
                target = getattr(form, error.field, None) if error.field else None
                if target is not None:
                    target.errors = list(target.errors) + [error.message]
                else:
                    flash(error.message, "error")
        else:
            status = 422
    attendees: dict[int, tuple[list[str], str]] = {}
    if kind in (CertificateKind.PARTICIPATION, CertificateKind.TRAINING):
        for holder in sources.checked_in_holders(event):  # a team: one row, all its people
            attendees.setdefault(holder.registration_id, ([], holder.unit))[0].append(holder.name)
    chosen = {int(v) for v in request.form.getlist("registration_ids") if v.isdigit()}
    return render_template(
        "certificates/issue.html", event=event, kind=kind, kind_label=services.KIND_LABELS[kind], form=form,
        check=check, attendees=[(rid, "、".join(names), unit) for rid, (names, unit) in attendees.items()],
        chosen=chosen, design=services.get_design(event, kind),
        max_holders=sources.MAX_HOLDERS,
    ), status


# ---------------------------------------------------------------- batches


def _batch_task(event, batch_id: int) -> BackgroundTask:
    task = db.session.get(BackgroundTask, batch_id)
    if task is None or task.event_id != event.id or task.kind != services.BATCH_KIND:
        abort(404)
    return task


def _zip_path(task: BackgroundTask):
    result = task.result or {}
    if task.state != TaskState.DONE or not result.get("zip"):
        return None
    return files.result_path(task.id, result["zip"])


@bp.route("/batches/<int:batch_id>/certificates.zip")
@login_required
def batch_zip(event_id: int, batch_id: int):
    event = get_managed_event(event_id)
    task = _batch_task(event, batch_id)
    path = _zip_path(task)
    if path is None:
        flash(_("This batch has no ZIP to download (it is not finished, or its files were deleted after %(hours)d "
                "hours: start the batch again, nothing is issued twice).",
                hours=current_app.config["TASK_FILE_RETENTION_HOURS"]), "warning")
        return redirect(url_for("certificates.index", event_id=event.id))

    def work():
        from core.models import record_audit

        record_audit(actor=current_user, organization_id=event.organization_id, action="certificates.zip_download",
                     obj=task, now=utcnow(), event_id=event.id)
        db.session.commit()

    run_write(db.session, work)
    response = send_file(path, mimetype="application/zip", as_attachment=True,
                         download_name=(task.result or {}).get("zip_filename") or "certificates.zip", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- one certificate


@bp.route("/<int:certificate_id>")
@login_required
def detail(event_id: int, certificate_id: int):
    event = get_managed_event(event_id)
    certificate = _certificate(event, certificate_id)
    reissue_form = forms.ReissueForm(obj=certificate)
    history = list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.object_type == "Certificate", AuditEntry.object_id == certificate.id)
        .order_by(AuditEntry.id)))
    return render_template(
        "certificates/detail.html", event=event, certificate=certificate, kind_label=services.KIND_LABELS[
            certificate.kind], reissue_form=reissue_form, revoke_form=forms.RevokeForm(), history=history,
        verify_url=services.verify_url(certificate.verify_code),
    )


@bp.route("/<int:certificate_id>/certificate.pdf")
@login_required
def certificate_pdf(event_id: int, certificate_id: int):
    event = get_managed_event(event_id)
    certificate = _certificate(event, certificate_id)
    try:
        pdf = services.certificate_pdf(certificate)
    except render.MissingGlyphs as error:
        flash(services.missing_glyphs_message(error.missing), "error")
        return redirect(url_for("certificates.detail", event_id=event.id, certificate_id=certificate.id))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    name = numbering.safe_file_name(certificate.number, certificate.holder_name)
    from urllib.parse import quote

    response.headers["Content-Disposition"] = f"inline; filename=\"certificate-{certificate.id}.pdf\"; " \
                                              f"filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:certificate_id>/reissue", methods=["POST"])
@login_required
def reissue(event_id: int, certificate_id: int):
    event = get_managed_event(event_id)
    certificate = _certificate(event, certificate_id)
    form = forms.ReissueForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("certificates.detail", event_id=event.id, certificate_id=certificate.id))
    changes = services.HolderChanges(
        holder_name=form.holder_name.data or "", unit=form.unit.data or "", members=form.members.data or "",
        award=form.award.data or "", competition=form.competition.data or "", group_name=form.group_name.data or "")

    def work():
        fresh = db.session.get(Certificate, certificate.id, populate_existing=True)
        services.reissue(fresh, changes, reason=form.reason.data or "", actor=current_user, now=utcnow())
        db.session.commit()

    try:
        run_write(db.session, work)
    except services.CertificateError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Reissued: the certificate keeps its number; download the new PDF below."), "success")
    return redirect(url_for("certificates.detail", event_id=event.id, certificate_id=certificate.id))


@bp.route("/<int:certificate_id>/revoke", methods=["POST"])
@login_required
def revoke(event_id: int, certificate_id: int):
    event = get_managed_event(event_id)
    certificate = _certificate(event, certificate_id)
    form = forms.RevokeForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("certificates.detail", event_id=event.id, certificate_id=certificate.id))

    def work():
        fresh = db.session.get(Certificate, certificate.id, populate_existing=True)
        services.revoke(fresh, reason=form.reason.data, actor=current_user, now=utcnow())
        db.session.commit()

    try:
        run_write(db.session, work)
    except services.CertificateError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("The certificate has been revoked: its verification page now says so."), "success")
    return redirect(url_for("certificates.detail", event_id=event.id, certificate_id=certificate.id))


# ---------------------------------------------------------------- "your certificate is ready"


@bp.route("/notify", methods=["POST"])
@login_required
def notify(event_id: int):
    event = get_managed_event(event_id)
    form = forms.NotifyForm()
    if not form.validate_on_submit():
        abort(400)
    kind = CertificateKind(form.kind.data) if form.kind.data in KIND_VALUES else None

    def work():
        result = services.queue_ready_messages(event, kind, actor=current_user, now=utcnow())
        db.session.commit()
        return result

    queued, skipped = run_write(db.session, work)
    if queued:
        flash(ngettext("%(num)d message queued: it is sent by the scheduler within a minute.",
                       "%(num)d messages queued: they are sent by the scheduler within a minute.", queued),
              "success")
    else:
        flash(_("No new message to queue: every holder with a sign-up has been told already (certificates of "
                "typed-in names or judges have no sign-up to write to)."), "info")
    return redirect(url_for("certificates.index", event_id=event.id))


# ---------------------------------------------------------------- templates


@bp.app_template_global()
def registration_certificates(registration_id: int) -> list[Certificate]:
    """For the participant's sign-up page: their valid certificates."""
    return services.registration_certificates(registration_id)


@bp.app_template_global()
def certificate_kind_label(kind) -> str:
    return str(services.KIND_LABELS[CertificateKind(getattr(kind, "value", kind))])
