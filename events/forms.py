from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core.timezones import COMMON_TIMEZONES, is_valid_timezone
from events.models import EventKind, HostRole

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
MAX_HOST_LINES = 30


# Years outside this range are typing mistakes; year 1 or 9999 would also overflow when converted to UTC.
MIN_YEAR, MAX_YEAR = 1900, 2200


class LocalDateTimeField(DateTimeLocalField):
    """A datetime-local input whose parse error speaks the user's language."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
            if self.data is not None and not MIN_YEAR <= self.data.year <= MAX_YEAR:
                raise ValueError("year out of range")
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date and time, e.g. 2026-05-20 09:00.")) from None


class WholeNumberField(IntegerField):
    """An integer input whose parse error speaks the user's language."""

    # Larger numbers are nonsense here, and would overflow NumberRange (it calls math.isnan on the value).
    MAX_ABS = 10**15

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
            if self.data is not None and abs(self.data) > self.MAX_ABS:
                raise ValueError("number too large")
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a whole number.")) from None


def timezone_choices():
    """北京时间 (Asia/Shanghai) rather than the bare zone name, in the page's language."""
    from core.templating import timezone_label

    return [(tz, tz if timezone_label(tz) == tz else f"{timezone_label(tz)} ({tz})") for tz in COMMON_TIMEZONES]


def kind_choices():
    return [
        (EventKind.FORUM.value, _l("Forum")),
        (EventKind.SALON.value, _l("Salon")),
        (EventKind.SEMINAR.value, _l("Seminar")),
        (EventKind.TRAINING.value, _l("Training")),
        (EventKind.COMPETITION.value, _l("Competition")),
        (EventKind.CEREMONY.value, _l("Ceremony")),
    ]


def host_lines(text: str | None) -> list[str]:
    """One name per line (or separated by 、/；), blanks dropped, duplicates kept once, order kept."""
    names: list[str] = []
    for raw in (text or "").replace("、", "\n").replace("；", "\n").replace(";", "\n").splitlines():
        name = raw.strip()
        if name and name not in names:
            names.append(name)
    return names


class HostLinesField(TextAreaField):
    def pre_validate(self, form):
        names = host_lines(self.data)
        if len(names) > MAX_HOST_LINES:
            raise ValidationError(_l("At most %(n)d names.", n=MAX_HOST_LINES))
        if any(len(n) > 200 for n in names):
            raise ValidationError(_l("A name may have at most 200 characters."))


required = _l("This field is required.")


class EventForm(FlaskForm):
    organization_id = SelectField(_l("Organization"), coerce=int, validate_choice=True)
    kind = SelectField(_l("Kind"), choices=kind_choices, validators=[InputRequired(required)])
    title = StringField(_l("Title"), validators=[DataRequired(required), Length(max=200, message=_l("At most 200 characters."))])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=20000, message=_l("At most 20,000 characters."))],
        render_kw={"rows": 6},
    )
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200, message=_l("At most 200 characters."))])
    starts_at = LocalDateTimeField(_l("Starts"), format=DATETIME_FORMATS, validators=[InputRequired(required)])
    ends_at = LocalDateTimeField(_l("Ends"), format=DATETIME_FORMATS, validators=[InputRequired(required)])
    timezone = SelectField(_l("Time zone"), choices=timezone_choices, default="Asia/Shanghai")
    capacity = WholeNumberField(
        _l("Capacity"),
        validators=[Optional(), NumberRange(min=0, max=1_000_000, message=_l("Enter a number from 0 to 1,000,000."))],
        description=_l("Leave empty for no limit."),
    )
    registration_opens_at = LocalDateTimeField(_l("Registration opens"), format=DATETIME_FORMATS, validators=[Optional()])
    registration_closes_at = LocalDateTimeField(_l("Registration closes"), format=DATETIME_FORMATS, validators=[Optional()])
    requires_approval = BooleanField(_l("Sign-ups need approval by an organizer"))
    hosts = HostLinesField(_l("Host (主办)"), description=_l("One name per line."), render_kw={"rows": 2})
    organizers = HostLinesField(_l("Organizer (承办)"), description=_l("One name per line."), render_kw={"rows": 2})
    co_organizers = HostLinesField(_l("Co-organizer (协办)"), description=_l("One name per line."), render_kw={"rows": 2})

    def validate_timezone(self, field):
        if not is_valid_timezone(field.data):
            raise ValidationError(_l("Unknown time zone."))

    def host_lists(self) -> dict[HostRole, list[str]]:
        return {
            HostRole.HOST: host_lines(self.hosts.data),
            HostRole.ORGANIZER: host_lines(self.organizers.data),
            HostRole.CO_ORGANIZER: host_lines(self.co_organizers.data),
        }


class SessionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(required), Length(max=200, message=_l("At most 200 characters."))])
    starts_at = LocalDateTimeField(_l("Starts"), format=DATETIME_FORMATS, validators=[InputRequired(required)])
    ends_at = LocalDateTimeField(_l("Ends"), format=DATETIME_FORMATS, validators=[InputRequired(required)])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=200, message=_l("At most 200 characters."))])
    capacity = WholeNumberField(
        _l("Capacity"),
        validators=[Optional(), NumberRange(min=0, max=1_000_000, message=_l("Enter a number from 0 to 1,000,000."))],
        description=_l("Leave empty for no limit."),
    )


class ConfirmForm(FlaskForm):
    """An empty form: only its CSRF token, for one-button actions (publish, archive, delete)."""
