"""Forms of the appeal pages: filing (the team leader, or an organizer on their behalf), the arbitration group's
decision (the corrected values are read from the form by the view), and the per-competition setting."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from appeals.models import DECISION_MAX, MAX_APPEALS_PER_ENTRANT, REASON_MAX
from events.forms import WholeNumberField

required = _l("This field is required.")


class AppealForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the appeal"), validators=[InputRequired(required),
                                                                    Length(max=REASON_MAX)],
                           description=_l("Which result you appeal against and why, as precisely as you can "
                                          "(criterion, round, what you believe is wrong)."))
    attachment = FileField(_l("Attachment (optional)"),
                           description=_l("A PDF, PNG or JPEG file of at most 5 MB, e.g. a photo of the evidence."))


class OrganizerAppealForm(AppealForm):
    entrant_id = SelectField(_l("Entrant"), coerce=int, validators=[InputRequired(required)])
    appellant_name = StringField(_l("Filed by (team leader)"), validators=[Optional(), Length(max=100)],
                                 description=_l("Leave empty to use the sign-up's contact person."))


class DecisionForm(FlaskForm):
    outcome = RadioField(_l("Decision"), choices=[
        ("rejected", _l("Rejected (申诉不成立): the results stand")),
        ("upheld", _l("Upheld (申诉成立): correct the re-checked scores")),
    ], validators=[InputRequired(required)])
    decision = TextAreaField(_l("Decision and reason"), validators=[InputRequired(required),
                                                                    Length(max=DECISION_MAX)],
                             description=_l("The appellant sees this text. The decision is final: it cannot be "
                                            "changed afterwards."))
    # a final decision (and its score corrections) is a re-authenticated action: the password is asked again
    password = PasswordField(_l("Your password (asked again)"), validators=[InputRequired(required)])


class SettingsForm(FlaskForm):
    appeals_per_entrant = WholeNumberField(_l("Appeals per entrant"), validators=[InputRequired(required)],
                                           description=_l("How many appeals one entrant may file against these "
                                                          "results (the rules usually allow one; at most %(n)d).",
                                                          n=MAX_APPEALS_PER_ENTRANT))
