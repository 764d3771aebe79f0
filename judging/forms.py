"""Forms of the judging pages: judges, panels, shares, round settings, and the invitation link's password form.
The assignment matrix and the criteria of a share are read from the form's checkboxes by the views."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional

from events.forms import WholeNumberField
from judging.models import JudgeRole

required = _l("This field is required.")


def _max(n: int):
    return Length(max=n, message=_l("At most %(max)d characters."))


def role_choices():
    return [(JudgeRole.JUDGE.value, _l("Judge (评委)")), (JudgeRole.CHIEF.value, _l("Chief judge (裁判长)")),
            (JudgeRole.ENCRYPTOR.value, _l("Encryption judge (加密裁判)")),
            (JudgeRole.SUPERVISOR.value, _l("Supervisor (监督)")),
            (JudgeRole.ARBITRATOR.value, _l("Arbitrator (仲裁)"))]


class JudgeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(required), _max(80)])
    login = StringField(_l("Account (mobile phone or e-mail)"), validators=[InputRequired(required), _max(120)],
                        description=_l("If the account exists already, it is used as it is and keeps its password."))
    units = TextAreaField(_l("Units for conflicts of interest (回避)"), validators=[Optional(), _max(4000)],
                          description=_l("Every unit the judge belongs to or works closely with, separated by 、 or "
                                         "new lines. They never score entrants of these units."))
    role = SelectField(_l("Role"), choices=role_choices, default=JudgeRole.JUDGE.value)
    limit_to_event = BooleanField(_l("Only for this event"), default=True)
    account = RadioField(_l("Password"), choices=[
        ("invite", _l("Send an invitation link: the judge sets their own password")),
        ("password", _l("Set a password now and tell the judge")),
    ], default="invite")
    password = PasswordField(_l("Password"), validators=[Optional(), _max(200)])


class JudgeEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(required), _max(80)])
    units = TextAreaField(_l("Units for conflicts of interest (回避)"), validators=[Optional(), _max(4000)])
    role = SelectField(_l("Role"), choices=role_choices)


class PanelForm(FlaskForm):
    name = StringField(_l("Panel name"), validators=[InputRequired(required), _max(60)],
                       description=_l("e.g. 高职组评委组"))
    round_id = SelectField(_l("Round"), coerce=int, validators=[InputRequired(required)])
    group_id = SelectField(_l("Group"), coerce=int)
    judges_per_entrant = WholeNumberField(
        _l("Judges per entrant"), validators=[Optional(), NumberRange(min=1, max=99, message=_l("From 1 to 99."))],
        description=_l("Leave empty when every judge of the panel scores every entrant (except conflicts)."))


class PanelJudgeForm(FlaskForm):
    profile_id = SelectField(_l("Judge"), coerce=int, validators=[InputRequired(required)])
    share = SelectField(_l("Criteria"), choices=[
        ("all", _l("All criteria")),
        ("measurement", _l("Measurement criteria only (客观)")),
        ("judgement", _l("Judgement criteria only (主观)")),
    ], default="all")


class RoundSettingsForm(FlaskForm):
    requires_roll_call = BooleanField(_l("Only entrants present at roll call (检录) are scored"))
    code_stage = SelectField(_l("Judges see"), coerce=int, choices=[
        (1, _l("the station number (工位号, first draw)")),
        (2, _l("the result code (二次加密号, second draw)")),
    ])


class InvitationForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(required), _max(200)])
    confirm = PasswordField(_l("New password again"), validators=[
        InputRequired(required), EqualTo("password", message=_l("The two passwords differ."))])
