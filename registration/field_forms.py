"""Forms of the form builder (kept apart from the public sign-up form)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from registration.fields import CHOICE_KINDS, FieldKind, parse_option_lines


def kind_choices():
    return [
        (FieldKind.TEXT.value, _l("Short text")),
        (FieldKind.TEXTAREA.value, _l("Long text")),
        (FieldKind.CHOICE.value, _l("Single choice")),
        (FieldKind.MULTI_CHOICE.value, _l("Multiple choice")),
        (FieldKind.PHONE.value, _l("Mobile phone")),
        (FieldKind.EMAIL.value, _l("E-mail")),
        (FieldKind.ID_NUMBER.value, _l("ID card number")),
        (FieldKind.NUMBER.value, _l("Number")),
        (FieldKind.DATE.value, _l("Date")),
        (FieldKind.UNIT.value, _l("Unit")),
        (FieldKind.JOB_TITLE.value, _l("Job title")),
    ]


class FieldDefinitionForm(FlaskForm):
    kind = SelectField(_l("Type"), choices=kind_choices)
    label = StringField(_l("Question"), validators=[DataRequired(_l("This field is required.")),
                                                   Length(max=200, message=_l("At most 200 characters."))])
    help_text = StringField(_l("Help text"), validators=[Optional(), Length(max=500, message=_l("At most 500 characters."))])
    required = BooleanField(_l("Required"))
    personal = BooleanField(_l("Personal data (masked in lists and exports to non-organizers)"))
    options = TextAreaField(
        _l("Options"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 4},
        description=_l("One per line. Add “| 30” after an option to give it 30 seats, e.g. “上午工作坊 | 30”."),
    )
    condition_key = SelectField(_l("Show only when"), choices=[], validate_choice=False)
    condition_value = StringField(_l("has the answer"), validators=[Optional(), Length(max=100)])

    def set_condition_choices(self, earlier_choice_fields):
        self.condition_key.choices = [("", _l("— always shown —"))] + [(f.key, f.label) for f in earlier_choice_fields]

    def validate_options(self, field):
        if self.kind.data in {k.value for k in CHOICE_KINDS} and not parse_option_lines(field.data):
            raise ValidationError(_l("A choice question needs at least one option."))

    def validate_condition_value(self, field):
        if self.condition_key.data and not (field.data or "").strip():
            raise ValidationError(_l("Type the answer that shows this question."))
