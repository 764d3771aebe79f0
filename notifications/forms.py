from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from notifications.rules import MAX_REMINDER_HOURS
from notifications.services import BODY_LIMIT, SUBJECT_LIMIT

required = _l("This field is required.")


class TemplateForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[
        DataRequired(required), Length(max=SUBJECT_LIMIT, message=_l("At most %(max)d characters."))])
    body = TextAreaField(_l("Text"), validators=[
        DataRequired(required), Length(max=BODY_LIMIT, message=_l("At most %(max)d characters."))])


class ReminderForm(FlaskForm):
    enabled = BooleanField(_l("Send a reminder to every approved sign-up"))
    hours_before = IntegerField(
        _l("Hours before the start"),
        validators=[InputRequired(_l("Enter a number of hours.")),
                    NumberRange(min=1, max=MAX_REMINDER_HOURS,
                                message=_l("Choose between %(min)s and %(max)s hours."))],
    )


def audience_choices():
    return [
        ("approved", _l("All approved sign-ups")),
        ("waitlisted", _l("Everyone on the waiting list")),
        ("pending", _l("Sign-ups waiting for approval")),
        ("selected", _l("The sign-ups ticked below")),
    ]


class BulkMessageForm(FlaskForm):
    audience = RadioField(_l("To"), choices=audience_choices, default="approved",
                          validators=[InputRequired(_l("Choose who receives the message."))])
    subject = StringField(_l("Subject"), validators=[
        DataRequired(required), Length(max=SUBJECT_LIMIT, message=_l("At most %(max)d characters."))])
    body = TextAreaField(_l("Text"), validators=[
        DataRequired(required), Length(max=BODY_LIMIT, message=_l("At most %(max)d characters."))])
