"""Organizer forms of the competition set-up. Numbers that must be exact (maximum, step, weights) are typed as text
and parsed by the services into Decimals, so their messages are the services' own."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from competition.models import AggregationMethod, CriterionKind, Normalization, Rounding
from events.forms import DATETIME_FORMATS, LocalDateTimeField, WholeNumberField


def _max(n: int):
    return Length(max=n, message=_l("At most %(max)d characters."))


def rounding_choices():
    return [(Rounding.HALF_UP.value, _l("Half up (四舍五入)")), (Rounding.UP.value, _l("Always up")),
            (Rounding.DOWN.value, _l("Always down (truncate)"))]


def aggregation_choices():
    return [
        (AggregationMethod.TRIMMED_MEAN.value, _l("Drop the highest and the lowest, then average")),
        (AggregationMethod.MEAN.value, _l("Average of all judges")),
        (AggregationMethod.TWO_CLOSEST.value, _l("Average of the two closest (panels of 3)")),
        (AggregationMethod.MEDIAN.value, _l("Median")),
    ]


def normalization_choices():
    return [(Normalization.OFF.value, _l("Off")), (Normalization.Z_SCORE.value, _l("Z-score")),
            (Normalization.MEDIAN_MAD.value, _l("Median and MAD (robust)"))]


def award_basis_choices():
    return [("share", _l("Share of the ranked entrants (%)")), ("count", _l("Number of entrants")),
            ("threshold", _l("Lowest total of each tier"))]


def award_rounding_choices():
    return [("half_up", _l("Half up")), ("up", _l("Up")), ("down", _l("Down"))]


def places_choices():
    return [(n, str(n)) for n in range(5)]


def kind_choices():
    return [(CriterionKind.MEASUREMENT.value, _l("Measurement (客观)")),
            (CriterionKind.JUDGEMENT.value, _l("Judgement (主观)"))]


required = _l("This field is required.")


class CompetitionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(required), _max(200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), _max(5000)])
    groups = TextAreaField(_l("Groups (组别)"), validators=[Optional(), _max(2000)],
                           description=_l("One per line, e.g. 中职组, 高职组, 企业组. Entrants are ranked within their group."))
    places = SelectField(_l("Decimal places of scores and totals"), coerce=int, choices=places_choices, default=2)
    rounding = SelectField(_l("Rounding"), choices=rounding_choices, default=Rounding.HALF_UP.value)
    aggregation = SelectField(_l("Combining the judges' scores"), choices=aggregation_choices,
                              default=AggregationMethod.TRIMMED_MEAN.value)
    trim_threshold = WholeNumberField(
        _l("Drop highest and lowest from this many judges on"), default=5,
        validators=[InputRequired(required), NumberRange(min=3, max=99, message=_l("Enter a number from 3 to 99."))])
    normalization = SelectField(_l("Normalization of judges (shown beside the raw result)"),
                                choices=normalization_choices, default=Normalization.OFF.value)
    normalization_min_scores = WholeNumberField(
        _l("Fewest scores per judge for normalization"), default=5,
        validators=[InputRequired(required), NumberRange(min=2, max=1000, message=_l("Enter a number from 2 to 1000."))])
    award_basis = SelectField(_l("Awards by"), choices=award_basis_choices, default="share")
    award_rounding = SelectField(_l("Rounding of award counts"), choices=award_rounding_choices, default="half_up")
    award_tiers = TextAreaField(_l("Award tiers"), validators=[Optional(), _max(2000)],
                                description=_l("One tier per line, highest first: its name and its value, e.g. 一等奖 10."))


class GroupForm(FlaskForm):
    name = StringField(_l("Group name"), validators=[InputRequired(required), _max(60)])


class RoundForm(FlaskForm):
    name = StringField(_l("Round name"), validators=[InputRequired(required), _max(60)],
                       description=_l("e.g. 初赛, 复赛, 决赛"))
    starts_at = LocalDateTimeField(_l("Starts"), format=DATETIME_FORMATS, validators=[Optional()])
    ends_at = LocalDateTimeField(_l("Ends"), format=DATETIME_FORMATS, validators=[Optional()])
    carries_scores_forward = BooleanField(_l("This round's scores count toward the final result"))
    weight = StringField(_l("Weight (%)"), validators=[Optional(), _max(12)],
                         description=_l("Only for a round whose scores count; the weights of those rounds add up to 100."))


class ModuleForm(FlaskForm):
    code = StringField(_l("Module code"), validators=[InputRequired(required), _max(10)], description=_l("e.g. A, B"))
    name = StringField(_l("Module name"), validators=[Optional(), _max(100)], description=_l("e.g. 客观, 主观, 理论"))
    weight = StringField(_l("Weight (%)"), validators=[Optional(), _max(12)],
                         description=_l("Optional. Give every module a weight, adding up to 100, or none."))


class CriterionForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(required), _max(20)], description=_l("e.g. A1"))
    name = StringField(_l("Criterion"), validators=[InputRequired(required), _max(200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), _max(5000)])
    maximum = StringField(_l("Maximum"), validators=[InputRequired(required), _max(12)])
    step = StringField(_l("Step"), validators=[InputRequired(required), _max(12)], default="1",
                       description=_l("The smallest difference between two scores, e.g. 1 or 0.5."))
    kind = SelectField(_l("Kind"), choices=kind_choices, default=CriterionKind.JUDGEMENT.value)
    full_or_zero = BooleanField(_l("Full mark or zero only (measurement)"))
    ladder = BooleanField(_l("Scored on the 0–3 ladder (judgement): marks = level ÷ 3 × maximum"))
    level0 = TextAreaField(_l("Level 0"), validators=[Optional(), _max(1000)])
    level1 = TextAreaField(_l("Level 1"), validators=[Optional(), _max(1000)])
    level2 = TextAreaField(_l("Level 2"), validators=[Optional(), _max(1000)])
    level3 = TextAreaField(_l("Level 3"), validators=[Optional(), _max(1000)])

    def levels(self) -> list[str]:
        return [self.level0.data or "", self.level1.data or "", self.level2.data or "", self.level3.data or ""]


class EntrantForm(FlaskForm):
    name = StringField(_l("Name (person or team)"), validators=[InputRequired(required), _max(100)])
    unit = StringField(_l("Unit"), validators=[Optional(), _max(200)])
    group_id = SelectField(_l("Group"), coerce=int, validate_choice=False)
    is_team = BooleanField(_l("Team"))
    members = TextAreaField(_l("Members"), validators=[Optional(), _max(2000)],
                            description=_l("Separated by 、 or commas or new lines; the leader first."))
    coaches = TextAreaField(_l("Coaches"), validators=[Optional(), _max(1000)])
    phone = StringField(_l("Mobile phone"), validators=[Optional(), _max(30)])


class DrawForm(FlaskForm):
    code_prefix = StringField(_l("Prefix"), validators=[Optional(), _max(3)],
                              description=_l("Up to three letters, or none."))
    width = WholeNumberField(_l("Digits"), validators=[Optional(), NumberRange(min=1, max=6, message=_l("Enter a number from 1 to 6."))],
                             description=_l("Empty: as many as the number of entrants needs (at least 2)."))
    only_missing = HiddenField(default="")


class RollCallForm(FlaskForm):
    present = HiddenField(validators=[DataRequired()])


class RollCallScanForm(FlaskForm):
    token = StringField(_l("Ticket code"), validators=[InputRequired(required), _max(200)],
                        description=_l("Scan the sign-up's QR ticket with a handheld scanner, or type the code under it."))


class WorkbookImportForm(FlaskForm):
    file = FileField(_l("Workbook (.xlsx)"), validators=[FileRequired(_l("Choose a file."))])


class WorkbookConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
