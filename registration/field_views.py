"""The form builder: organizers add, edit, order and delete the custom questions of an event's sign-up form."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.types import utcnow
from events.forms import ConfirmForm
from events.views import get_managed_event
from extensions import db
from registration import services
from registration.field_forms import FieldDefinitionForm
from registration.fields import CHOICE_KINDS, FieldKind, parse_option_lines
from registration.models import RegistrationField
from registration.views import bp


def _field_data(form: FieldDefinitionForm) -> services.FieldData:
    return services.FieldData(
        kind=FieldKind(form.kind.data), label=form.label.data, help_text=form.help_text.data or "",
        required=bool(form.required.data), personal=bool(form.personal.data),
        options=parse_option_lines(form.options.data), condition_key=form.condition_key.data or None,
        condition_value=(form.condition_value.data or "").strip() or None,
    )


def _managed_field(event_id: int, field_id: int) -> RegistrationField:
    event = get_managed_event(event_id)
    row = db.session.get(RegistrationField, field_id)
    if row is None or row.event_id != event.id:
        abort(404)
    return row


def _earlier_choice_fields(fields, before: RegistrationField | None = None):
    found = []
    for f in fields:
        if before is not None and f.id == before.id:
            break
        if f.kind in {k.value for k in CHOICE_KINDS}:
            found.append(f)
    return found


def _show_error(form, error: services.RegistrationError) -> None:
    target = getattr(form, error.field or "", None)
    if target is not None:
        target.errors = list(target.errors) + [error.message]
    else:
        flash(error.message, "error")


@bp.route("/manage/events/<int:event_id>/form", methods=["GET", "POST"])
@login_required
def form_builder(event_id: int):
    event = get_managed_event(event_id)
    fields = services.list_fields(event.id)
    form = FieldDefinitionForm()
    form.set_condition_choices(_earlier_choice_fields(fields))
    if form.validate_on_submit():
        try:
            services.add_field(event, _field_data(form), actor=current_user, now=utcnow())
        except services.RegistrationError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("Question added."), "success")
            return redirect(url_for("registration.form_builder", event_id=event.id))
    return render_template(
        "registration/fields.html", event=event, fields=fields, form=form, confirm_form=ConfirmForm(),
        seats=services.option_seats(event.id), kind_labels=dict(form.kind.choices),
    ), 422 if form.errors else 200


@bp.route("/manage/events/<int:event_id>/form/<int:field_id>/edit", methods=["GET", "POST"])
@login_required
def edit_field(event_id: int, field_id: int):
    row = _managed_field(event_id, field_id)
    event = get_managed_event(event_id)
    form = FieldDefinitionForm()
    form.set_condition_choices(_earlier_choice_fields(services.list_fields(event.id), before=row))
    if not form.is_submitted():
        form.kind.data = row.kind
        form.label.data = row.label
        form.help_text.data = row.help_text
        form.required.data = row.required
        form.personal.data = row.personal
        form.options.data = "\n".join(
            o["label"] + (f" | {o['capacity']}" if o.get("capacity") is not None else "") for o in row.options or [])
        form.condition_key.data = row.condition_key or ""
        form.condition_value.data = row.condition_value or ""
    if form.validate_on_submit():
        try:
            services.update_field(row, _field_data(form), actor=current_user, now=utcnow())
        except services.RegistrationError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("registration.form_builder", event_id=event.id))
    return render_template("registration/field_form.html", event=event, field_row=row, form=form), 422 if form.errors else 200


@bp.route("/manage/events/<int:event_id>/form/<int:field_id>/delete", methods=["POST"])
@login_required
def delete_field(event_id: int, field_id: int):
    row = _managed_field(event_id, field_id)
    try:
        services.delete_field(row, actor=current_user, now=utcnow())
    except services.RegistrationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Question deleted."), "success")
    return redirect(url_for("registration.form_builder", event_id=event_id))


@bp.route("/manage/events/<int:event_id>/form/<int:field_id>/move/<direction>", methods=["POST"])
@login_required
def move_field(event_id: int, field_id: int, direction: str):
    row = _managed_field(event_id, field_id)
    if direction not in ("up", "down"):
        abort(404)
    try:
        services.move_field(row, -1 if direction == "up" else 1)
    except services.RegistrationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
    return redirect(url_for("registration.form_builder", event_id=event_id))
