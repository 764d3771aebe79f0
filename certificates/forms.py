"""Forms of the certificate pages. The field table of a design (position, size, text of every field) is read by
``read_fields`` from the posted form, because its rows are generated from layout.FIELD_NAMES."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, FloatField, HiddenField, IntegerField, RadioField, SelectField, \
    StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from certificates import layout

required = _l("This field is required.")


class DesignForm(FlaskForm):
    version = IntegerField(validators=[InputRequired(required)])
    base = SelectField(_l("Design"), choices=[
        ("formal", _l("Formal, A4 landscape, with a border")),
        ("portrait", _l("Formal, A4 portrait, with a border")),
        ("simple", _l("Simple, A4 landscape")),
        ("custom", _l("My own background image (from the print shop)")),
    ])
    orientation = SelectField(_l("Page"), choices=[("landscape", _l("A4 landscape")), ("portrait", _l("A4 portrait"))],
                              description=_l("For your own background: follows the uploaded image."))
    background = FileField(_l("Background image"),
                           description=_l("PNG or JPG, A4 proportions, at least 1400 × 990 pixels, at most 8 MB."))
    remove_background = BooleanField(_l("Remove the background image"))
    preprinted = BooleanField(_l("Print on pre-printed certificate paper (only the fields are printed)"))
    offset_x = FloatField(_l("Printer offset to the right (mm)"), default=0.0,
                          validators=[Optional(), NumberRange(-30, 30, _l("Between −30 and 30 mm."))])
    offset_y = FloatField(_l("Printer offset downward (mm)"), default=0.0,
                          validators=[Optional(), NumberRange(-30, 30, _l("Between −30 and 30 mm."))])
    date_style = SelectField(_l("How the date is written"), choices=[("chinese", _l("In Chinese numerals (二〇二六年十一月二十四日)")),
                                                  ("plain", _l("In digits (2026年11月24日)"))])
    issue_date = DateField(_l("Date printed on the certificates"), validators=[Optional()],
                           description=_l("Empty: the last day of the event."))
    organizers_text = TextAreaField(_l("Issued by (one name per line)"),
                                    validators=[Length(max=1000, message=_l("At most 1000 characters."))])
    number_format = StringField(_l("Certificate number format"),
                                validators=[DataRequired(required), Length(max=60, message=_l("At most 60 characters."))],
                                description=_l("{seq:04d}: the sequence number with 4 digits; {year}: the year; "
                                               "{event_id}: the event's number. E.g. 〔{year}〕厦信协证字第{seq:04d}号 "
                                               "or SH-{year}-{seq:04d}."))
    number_scope = SelectField(_l("Sequence"), choices=[("year", _l("Per year (across the organization's events)")),
                                                        ("event", _l("Per event"))])


def read_fields(formdata, current: dict[str, layout.Field]) -> tuple[dict[str, layout.Field], list[str]]:
    """The field table from the posted form (``f-<name>-<attribute>``); a row missing from the post keeps its
    current values. Returns the fields and the names of the rows whose numbers could not be read."""
    fields: dict[str, layout.Field] = {}
    unreadable: list[str] = []
    for name in layout.FIELD_NAMES:
        base = current.get(name) or layout.Field(name=name)
        prefix = f"f-{name}-"
        if prefix + "x" not in formdata:
            fields[name] = base
            continue
        data = {
            "enabled": formdata.get(prefix + "enabled") in ("y", "on", "1", "true"),
            "x": formdata.get(prefix + "x", base.x), "y": formdata.get(prefix + "y", base.y),
            "width": formdata.get(prefix + "width", base.width),
            "size": formdata.get(prefix + "size", base.size), "align": formdata.get(prefix + "align", base.align),
            "lines": formdata.get(prefix + "lines", base.lines), "text": formdata.get(prefix + "text", base.text),
        }
        try:
            fields[name] = layout.field_from_dict(name, data)
        except (layout.LayoutError, ValueError):
            unreadable.append(name)
            fields[name] = base
    return fields, unreadable


SOURCES = {
    "checked_in": _l("Everyone who checked in"),
    "selected": _l("Chosen people who checked in"),
    "award": _l("Award winners of a competition (published results)"),
    "judges": _l("Judges and chief judges of the organization"),
    "typed": _l("Names typed in"),
}
SOURCES_BY_KIND = {
    "award": ("award", "typed"),
    "participation": ("checked_in", "selected", "typed"),
    "training": ("checked_in", "selected", "typed"),
    "appointment": ("judges", "typed"),
}
ORDERS = {
    "source": _l("As listed (sign-up order, or the results' order)"),
    "group": _l("By group"),
    "award": _l("By award"),
    "unit": _l("By unit"),
    "name": _l("By name"),
}


class IssueForm(FlaskForm):
    source = RadioField(_l("Who gets a certificate"), choices=list(SOURCES.items()),
                        validators=[InputRequired(_l("Choose who gets a certificate."))])
    competition_id = SelectField(_l("Competition"), coerce=int, choices=[], validate_choice=False)
    role = StringField(_l("Role printed on the letter"), validators=[Length(max=100)],
                       description=_l("E.g. 评委, 裁判长 or 专家组成员; empty: 评委 or 裁判长 as their role says."))
    names = TextAreaField(_l("Names"), validators=[Length(max=200_000)],
                          description=_l("One person per line: name, unit, award or role (unit and award may be "
                                         "left out)."))
    order = SelectField(_l("Order of the merged PDF"), choices=list(ORDERS.items()), default="source")


class ReissueForm(FlaskForm):
    holder_name = StringField(_l("Holder"), validators=[DataRequired(required), Length(max=100)])
    unit = StringField(_l("Unit"), validators=[Length(max=200)])
    members = StringField(_l("Team members"), validators=[Length(max=300)])
    award = StringField(_l("Award or role"), validators=[Length(max=100)])
    competition = StringField(_l("Competition"), validators=[Length(max=200)])
    group_name = StringField(_l("Group"), validators=[Length(max=60)])
    reason = StringField(_l("Why (kept in the log)"), validators=[Length(max=500)])


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give the reason for revoking.")),
                                                     Length(max=500, message=_l("At most 500 characters."))])


class NotifyForm(FlaskForm):
    kind = SelectField(_l("Certificates"), choices=[], validate_choice=False)


class VerifyForm(FlaskForm):
    number = StringField(_l("Certificate number or verification code"),
                         validators=[DataRequired(required), Length(max=100)])
    name = StringField(_l("Holder's name, as printed"), validators=[DataRequired(required), Length(max=100)])


class PlainForm(FlaskForm):
    kind = HiddenField()
