"""The public sign-up form, built per event from its registration settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from registration.identity import parse_email, parse_id_document, parse_phone

required = _l("This field is required.")

PHONE_MESSAGES = {
    "phone_required": _l("Enter a mobile phone number."),
    "invalid_phone": _l("Enter a valid mobile number, e.g. 13800138000 or +852 9123 4567."),
}
ID_MESSAGES = {
    "id_required": _l("Enter the ID number."),
    "id_format": _l("A resident ID number has 17 digits and a final digit or X."),
    "id_birth_date": _l("The birth date inside this ID number is not valid."),
    "id_checksum": _l("This ID number's check digit is wrong; please check every digit."),
    "passport_format": _l("Enter the passport number (5 to 20 letters and digits)."),
    "permit_format": _l("Enter the permit number (8 digits)."),
    "id_kind": _l("Choose the document type."),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PhoneField(StringField):
    """A phone number, normalized by registration.identity.parse_phone; ``data`` is the normalized value."""

    def __init__(self, *args, optional: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.optional = optional
        self.flags.required = not optional

    def pre_validate(self, form):
        raw = (self.data or "").strip()
        if not raw and self.optional:
            self.data = None
            return
        try:
            self.data = parse_phone(raw)
        except ValueError as error:
            raise ValidationError(PHONE_MESSAGES.get(str(error), PHONE_MESSAGES["invalid_phone"])) from None


def id_kind_choices():
    return [("resident_id", _l("Resident ID card (身份证)")), ("passport", _l("Passport")),
            ("taiwan_permit", _l("Mainland Travel Permit for Taiwan Residents"))]


class SignupForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(required), Length(max=60, message=_l("At most 60 characters."))])
    phone = PhoneField(_l("Mobile phone"), validators=[Length(max=30, message=_l("At most 30 characters."))])
    unit = StringField(_l("Unit (school, company or agency)"), validators=[DataRequired(required), Length(max=200, message=_l("At most 200 characters."))])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254, message=_l("At most 254 characters."))])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=100, message=_l("At most 100 characters."))])
    id_kind = SelectField(_l("Document type"), choices=id_kind_choices, default="resident_id")
    id_number = StringField(_l("Document number"), validators=[Optional(), Length(max=30, message=_l("At most 30 characters."))])
    group_name = SelectField(_l("Group"), choices=[], validate_choice=False)
    team_name = StringField(_l("Team name"), validators=[Optional(), Length(max=100, message=_l("At most 100 characters."))])
    sessions = MultiCheckboxField(_l("Sessions"), coerce=int, choices=[], validate_choice=False)
    note = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=500, message=_l("At most 500 characters."))], render_kw={"rows": 2})
    # A field people never see (hidden by CSS, skipped by keyboard); simple bots fill every field.
    website = StringField(_l("Leave this empty"), validators=[Optional(), Length(max=200)])

    def configure(self, settings, event):
        """Drop the questions this event does not ask; set the choices it offers."""
        if not settings.ask_email:
            del self.email
        elif self.email.flags:
            self.email.validators = [DataRequired(required), Length(max=254)]
        if not settings.ask_job_title:
            del self.job_title
        if not settings.ask_id_number:
            del self.id_kind
            del self.id_number
        if settings.groups:
            self.group_name.choices = [("", _l("— choose —"))] + [(g, g) for g in settings.groups]
        else:
            del self.group_name
        if settings.kind.value != "team":
            del self.team_name
        if settings.allow_session_choice and event.sessions:
            self.sessions.choices = [(s.id, s.title) for s in event.sessions]
        else:
            del self.sessions
        return self

    def validate_email(self, field):
        if field.data:
            try:
                field.data = parse_email(field.data)
            except ValueError:
                raise ValidationError(_l("Enter a valid e-mail address.")) from None

    def validate_id_number(self, field):
        raw = (field.data or "").strip()
        if not raw:
            raise ValidationError(ID_MESSAGES["id_required"])
        try:
            field.data = parse_id_document(self.id_kind.data, raw)
        except ValueError as error:
            raise ValidationError(ID_MESSAGES.get(str(error), ID_MESSAGES["id_format"])) from None

    def validate_group_name(self, field):
        if field.data not in {value for value, _label in field.choices if value}:
            raise ValidationError(_l("Choose a group."))

    def validate_team_name(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("Enter the team name."))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give a reason for the rejection.")), Length(max=2000)],
                           render_kw={"rows": 2})


class RegistrationSettingsForm(FlaskForm):
    kind = SelectField(_l("Who signs up"), choices=[("individual", _l("Individuals")), ("team", _l("Teams (leader, members, coaches)"))])
    team_min_members = IntegerField(_l("Smallest team"), default=1,
                                    validators=[NumberRange(min=1, max=50, message=_l("Enter a number from 1 to 50."))])
    team_max_members = IntegerField(_l("Largest team"), default=5,
                                    validators=[NumberRange(min=1, max=50, message=_l("Enter a number from 1 to 50."))])
    team_max_coaches = IntegerField(_l("Coaches per team at most"), default=2,
                                    validators=[NumberRange(min=0, max=10, message=_l("Enter a number from 0 to 10."))])
    groups = TextAreaField(_l("Groups (组别)"), description=_l("One per line, e.g. 中职组, 高职组, 企业组. Leave empty for no groups."),
                           validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})
    ask_id_number = BooleanField(_l("Ask for an ID document number"))
    ask_email = BooleanField(_l("Ask for an e-mail address"))
    ask_job_title = BooleanField(_l("Ask for the job title"))
    allow_session_choice = BooleanField(_l("Participants choose sessions (each session's capacity applies)"))

    def validate_team_max_members(self, field):
        if self.team_min_members.data and field.data is not None and field.data < self.team_min_members.data:
            raise ValidationError(_l("The largest team cannot be smaller than the smallest."))

    def group_list(self) -> list[str]:
        seen: list[str] = []
        for line in (self.groups.data or "").replace("、", "\n").replace(",", "\n").replace("，", "\n").splitlines():
            name = line.strip()[:60]
            if name and name not in seen:
                seen.append(name)
        return seen[:30]


# ---------------------------------------------------------------- organizer: bulk actions, import

from flask_wtf.file import FileField, FileRequired  # noqa: E402
from wtforms import HiddenField  # noqa: E402


class RegistrationBulkForm(FlaskForm):
    """Approve, reject or move up several sign-ups at once; the chosen ids come as ``ids`` checkboxes."""

    action = SelectField(_l("Action"), choices=[("approve", _l("Approve")), ("reject", _l("Reject")),
                                                ("promote", _l("Move up from the waiting list"))])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000, message=_l("At most 2000 characters."))],
                           render_kw={"rows": 1})


class RegistrationImportForm(FlaskForm):
    # The type is checked by registration.spreadsheets.read_table, which also explains what to do with an old .xls.
    file = FileField(_l("Spreadsheet (.xlsx or .csv)"), validators=[FileRequired(_l("Choose a file."))])


class RegistrationImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    mode = SelectField(_l("Import"), choices=[("valid", _l("Import all valid rows")),
                                              ("all", _l("Import only if every row is valid"))])
