"""One judge's value for one criterion: parse it, check it against the criterion, convert ladder levels to marks.

Pure module (stdlib only). Every score that reaches the database passes through :func:`validate_value`; the
tablet page, the scores API and the workbook import all call it, so a value is judged the same everywhere.

Vocabulary
----------
:class:`CriterionSpec`
    what a criterion accepts: ``maximum`` (marks), ``step`` (e.g. ``0.5``; ``None`` = any value with at most
    ``places`` decimals), ``places`` (the competition's precision, default 2), ``kind`` (measurement 客观 or
    judgement 主观) and one of two special scales:

    * ``allowed`` — only these values, e.g. a measurement criterion marked *full mark or zero*
      (:meth:`CriterionSpec.full_or_zero`); otherwise a measurement criterion takes any value on the step;
    * ``ladder`` — a judgement criterion scored on the WorldSkills 0–3 ladder (:meth:`CriterionSpec.on_ladder`):
      the judge enters the *level* (0, 1, 2 or 3) and the marks are ``level / 3 × maximum``
      (:func:`ladder_to_marks`). The level is what is stored (it is what the judge chose, and what the audit
      trail shows); :func:`marks_of` turns a stored value into marks for aggregation.

:class:`Precision` and :class:`Rounding`
    the competition's precision: decimal places and the rounding rule (half-up by default, or up, or down).
    Shared by aggregation (rounding of combined scores and totals) and awards (rounding of quota counts).

:class:`ValueProblem`
    raised for a value that is refused. ``code`` is a stable snake_case code that callers translate (the API
    answers 422 with it); ``message`` is an English default; ``params`` holds the numbers the message cites.

Problem codes of :func:`validate_value`
---------------------------------------
================== ===============================================================================
``blank``          no value (``None``, ``""``, spaces). A blank is *not* zero: zero must be typed.
``not_a_number``   not a plain decimal number (letters, ``1e3``, ``NaN``, two points, too long …)
``decimal_comma``  ``8,5``: written with a decimal comma (see *Parsing*); the message shows ``8.5``
``negative``       below zero
``above_maximum``  above the criterion's maximum
``too_many_decimals`` more decimal places than the competition's precision (``7.125`` with 2 places)
``off_step``       not a multiple of the step (step 0.5: ``7.25``); the message names the nearest valid values
``not_allowed``    not one of the allowed values (full mark or zero: only ``0`` or ``10``)
``not_a_level``    a ladder criterion given anything but 0, 1, 2 or 3
================== ===============================================================================

Checks run in that order, so a value gets the first problem that applies.

Parsing (strict but helpful)
----------------------------
Accepted: ``int``, ``Decimal``, ``float`` (read by its shortest representation, so ``7.1`` is 7.1, never
7.0999999999999996…; JSON numbers arrive as floats), and strings. A string is NFKC-normalised first, so
full-width digits, points, signs and spaces typed with a Chinese input method work: ``"７.５"``, ``"７．５"``,
``"　8　"`` are 7.5, 7.5 and 8. The ideographic full stop ``。`` that a Chinese keyboard types for "." is read as
a decimal point (``"7。5"`` is 7.5). Surrounding spaces are ignored. Then the string must be
``[+-]digits[.digits]`` (``".5"`` and ``"7."`` are fine). Refused: exponents (``1e1``), inner spaces, thousands
separators, and the decimal comma: in Chinese, as in English, ``,`` separates thousands, so ``"8,5"`` would be
ambiguous (8.5 or 85?); it is refused with ``decimal_comma`` and a message that shows the dotted form, rather
than guessed. ``bool`` is refused (``True`` is not a score). ``-0`` is zero.

A valid value is returned quantized to ``places`` (``"7.5"`` → ``Decimal("7.50")`` with 2 places); ladder levels
are returned as integers ``Decimal(0)`` … ``Decimal(3)``.

Worked examples (maximum 10, step 0.5, 2 places)::

    validate_value(spec, "7.5")   -> Decimal("7.50")
    validate_value(spec, "７.５")  -> Decimal("7.50")
    validate_value(spec, 0)       -> Decimal("0.00")      # zero is a value
    validate_value(spec, None)    -> ValueProblem blank   # blank is not zero
    validate_value(spec, "7.25")  -> ValueProblem off_step ("use 7 or 7.5")
    validate_value(spec, "7.125") -> ValueProblem too_many_decimals
    validate_value(spec, "10.5")  -> ValueProblem above_maximum
    ladder_to_marks(2, Decimal(6), Precision()) -> Decimal("4.00")   # 2/3 × 6
    ladder_to_marks(1, Decimal(5), Precision()) -> Decimal("1.67")   # 1/3 × 5 = 1.666…
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation, localcontext
from enum import Enum
from typing import Any

LADDER_LEVELS = (0, 1, 2, 3)
MAX_PLACES = 6
_MAX_TEXT = 40
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_COMMA_NUMBER = re.compile(r"[+-]?[0-9]+(?:,[0-9]+)+(?:\.[0-9]*)?")
# Characters NFKC leaves alone but people type for "." and "-".
_EXTRA_MAP = str.maketrans({"。": ".", "｡": ".", "−": "-", "–": "-"})


class Rounding(str, Enum):
    """How a number is rounded to the competition's precision (or a quota count to a whole number)."""

    HALF_UP = "half_up"  # 四舍五入: 2.675 → 2.68, 2.674 → 2.67
    UP = "up"  # away from zero (for scores: upwards): 2.671 → 2.68
    DOWN = "down"  # towards zero (truncate): 2.679 → 2.67

    @property
    def decimal_rounding(self) -> str:
        return {Rounding.HALF_UP: ROUND_HALF_UP, Rounding.UP: ROUND_UP, Rounding.DOWN: ROUND_DOWN}[self]


@dataclass(frozen=True)
class Precision:
    """The competition's precision: ``places`` decimal places, rounded by ``rounding`` (default: 2, half-up)."""

    places: int = 2
    rounding: Rounding = Rounding.HALF_UP

    def __post_init__(self) -> None:
        if isinstance(self.places, bool) or not isinstance(self.places, int) or not 0 <= self.places <= MAX_PLACES:
            raise ValueError(f"places must be a whole number from 0 to {MAX_PLACES}")
        object.__setattr__(self, "rounding", Rounding(self.rounding))

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.places)

    def quantize(self, value: Decimal) -> Decimal:
        """``value`` rounded to ``places`` by the rule; exact input digits are never lost before this step."""
        with localcontext() as ctx:
            ctx.prec = 80
            result = Decimal(value).quantize(self.quantum, rounding=self.rounding.decimal_rounding)
        return result.copy_abs() if result.is_zero() else result


class ValueProblem(ValueError):
    """A refused value (or criterion definition). ``code`` for machines, ``message`` in English, ``params``."""

    def __init__(self, code: str, message: str, **params: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ValueProblem({self.code!r}, {self.message!r})"


class CriterionKind(str, Enum):
    MEASUREMENT = "measurement"  # 客观评分: entered once, e.g. by a measuring judge
    JUDGEMENT = "judgement"  # 主观评分: scored by every judge of the panel


def _fmt(value: Decimal) -> str:
    """A Decimal as people write it: ``7.50`` → ``7.5``, ``10.00`` → ``10``, never ``1E+1``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def decimal_places(value: Decimal) -> int:
    """How many decimal places ``value`` really has: trailing zeros do not count (``7.50`` has 1)."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    digits = list(digits)
    while exponent < 0 and digits and digits[-1] == 0:
        digits.pop()
        exponent += 1
    return -exponent if digits else 0


def _as_decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise ValueProblem("invalid_criterion", f"{name} must be a decimal number", field=name)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueProblem("invalid_criterion", f"{name} must be a decimal number", field=name) from None
    if not number.is_finite():
        raise ValueProblem("invalid_criterion", f"{name} must be a decimal number", field=name)
    return number


@dataclass(frozen=True)
class CriterionSpec:
    """What one criterion accepts. Built from the rubric; invalid definitions raise ``ValueProblem`` with code
    ``invalid_criterion`` (and ``params['field']``) so that a rubric import can report them row by row."""

    maximum: Decimal
    step: Decimal | None = None
    kind: CriterionKind = CriterionKind.JUDGEMENT
    places: int = 2
    allowed: tuple[Decimal, ...] | None = None
    ladder: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "kind", CriterionKind(self.kind))
        if isinstance(self.places, bool) or not isinstance(self.places, int) or not 0 <= self.places <= MAX_PLACES:
            raise ValueProblem("invalid_criterion", f"places must be from 0 to {MAX_PLACES}", field="places")
        maximum = _as_decimal(self.maximum, "maximum")
        if maximum <= 0:
            raise ValueProblem("invalid_criterion", "maximum must be above zero", field="maximum")
        if decimal_places(maximum) > self.places:
            raise ValueProblem("invalid_criterion", "maximum has more decimals than the precision", field="maximum")
        set_(self, "maximum", maximum)
        if self.step is not None:
            step = _as_decimal(self.step, "step")
            if step <= 0 or step > maximum:
                raise ValueProblem("invalid_criterion", "step must be above zero and at most the maximum",
                                   field="step")
            if decimal_places(step) > self.places:
                raise ValueProblem("invalid_criterion", "step has more decimals than the precision", field="step")
            if maximum % step != 0:
                raise ValueProblem("invalid_criterion", "the maximum must be a multiple of the step", field="step")
            set_(self, "step", step)
        if self.ladder and self.kind is not CriterionKind.JUDGEMENT:
            raise ValueProblem("invalid_criterion", "only judgement criteria use the 0-3 ladder", field="ladder")
        if self.allowed is not None:
            if self.ladder:
                raise ValueProblem("invalid_criterion", "a ladder criterion has no list of allowed values",
                                   field="allowed")
            allowed = tuple(sorted({_as_decimal(value, "allowed") for value in self.allowed}))
            if not allowed or allowed[0] < 0 or allowed[-1] > maximum or any(
                decimal_places(value) > self.places for value in allowed
            ):
                raise ValueProblem("invalid_criterion", "allowed values must lie between 0 and the maximum",
                                   field="allowed")
            set_(self, "allowed", allowed)

    @classmethod
    def full_or_zero(cls, maximum: Decimal | int | str, *, places: int = 2) -> CriterionSpec:
        """A measurement criterion that is met (full mark) or not (zero)."""
        top = _as_decimal(maximum, "maximum")
        return cls(maximum=top, kind=CriterionKind.MEASUREMENT, places=places, allowed=(Decimal(0), top))

    @classmethod
    def on_ladder(cls, maximum: Decimal | int | str, *, places: int = 2) -> CriterionSpec:
        """A judgement criterion scored on the 0–3 ladder (level / 3 × maximum marks)."""
        return cls(maximum=_as_decimal(maximum, "maximum"), kind=CriterionKind.JUDGEMENT, places=places, ladder=True)


def parse_number(value: Any) -> Decimal | None:
    """Read a value as typed or sent; ``None`` for a blank. Raises ``ValueProblem`` (``not_a_number`` or
    ``decimal_comma``). See the module's *Parsing* section for what is accepted."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem("not_a_number", "Enter a number.")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = repr(value)  # shortest round-trip form: 7.1 → "7.1"; nan/inf fail the pattern below
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueProblem("not_a_number", "Enter a number.")
        return value.copy_abs() if value.is_zero() else value
    if not isinstance(value, str):
        raise ValueProblem("not_a_number", "Enter a number.")
    text = unicodedata.normalize("NFKC", value).translate(_EXTRA_MAP).strip()
    if not text:
        return None
    if len(text) > _MAX_TEXT:
        raise ValueProblem("not_a_number", "Enter a number.")
    if not _NUMBER.fullmatch(text):
        whole, _, fraction = text.partition(",")
        if _COMMA_NUMBER.fullmatch(text) and "," not in fraction and "." not in text and len(fraction) != 3:
            # "8,5" is a decimal comma; "1,000" looks like a thousands separator: say so instead of guessing
            dotted = text.replace(",", ".")
            raise ValueProblem("decimal_comma", f"Write decimals with a point, e.g. {dotted}.", suggestion=dotted)
        if _COMMA_NUMBER.fullmatch(text):
            raise ValueProblem("decimal_comma", "Write numbers without commas, with a point for decimals.")
        raise ValueProblem("not_a_number", "Enter a number.")
    number = Decimal(text)
    return number.copy_abs() if number.is_zero() else number


def _ladder_level(number: Decimal) -> int:
    if number != number.to_integral_value() or int(number) not in LADDER_LEVELS:
        raise ValueProblem("not_a_level", "Choose a level from 0 to 3.")
    return int(number)


def validate_optional_value(spec: CriterionSpec, value: Any) -> Decimal | None:
    """Like :func:`validate_value`, but a blank is allowed (a draft may leave a criterion empty): ``None``."""
    number = parse_number(value)
    if number is None:
        return None
    return _check(spec, number)


def validate_value(spec: CriterionSpec, value: Any) -> Decimal:
    """The value as a Decimal quantized to ``spec.places`` (ladder: the level), or ``ValueProblem``."""
    number = parse_number(value)
    if number is None:
        raise ValueProblem("blank", "Enter a score; a blank is not zero.")
    return _check(spec, number)


def _check(spec: CriterionSpec, number: Decimal) -> Decimal:
    if spec.ladder:
        return Decimal(_ladder_level(number))
    maximum = _fmt(spec.maximum)
    if number < 0:
        raise ValueProblem("negative", "A score cannot be below zero.", maximum=maximum)
    if number > spec.maximum:
        raise ValueProblem("above_maximum", f"The maximum is {maximum}.", maximum=maximum)
    if decimal_places(number) > spec.places:
        raise ValueProblem("too_many_decimals", f"Use at most {spec.places} decimal places.", places=spec.places)
    if spec.allowed is not None:
        if number not in spec.allowed:
            choices = " or ".join(_fmt(choice) for choice in spec.allowed)
            raise ValueProblem("not_allowed", f"Only {choices} can be given.", allowed=choices)
    elif spec.step is not None and number % spec.step != 0:
        lower = (number // spec.step) * spec.step
        upper = lower + spec.step
        step = _fmt(spec.step)
        raise ValueProblem("off_step", f"Scores go in steps of {step}: use {_fmt(lower)} or {_fmt(upper)}.",
                           step=step, lower=_fmt(lower), upper=_fmt(upper))
    return Precision(spec.places).quantize(number)


def ladder_to_marks(level: int | Decimal, maximum: Decimal, precision: Precision | None = None) -> Decimal:
    """Marks for a ladder level: ``level / 3 × maximum`` — exact (to 28 significant digits) when ``precision``
    is ``None`` (what aggregation uses, rounding once at the end of the step), else rounded by ``precision``
    (what a tablet shows beside one judge's level)."""
    if isinstance(level, bool) or not isinstance(level, (int, Decimal)):
        raise ValueProblem("not_a_level", "Choose a level from 0 to 3.")
    number = Decimal(level)
    if not number.is_finite():
        raise ValueProblem("not_a_level", "Choose a level from 0 to 3.")
    level_int = _ladder_level(number)
    with localcontext(prec=28):
        marks = Decimal(maximum) * level_int / 3
    return precision.quantize(marks) if precision is not None else marks


def marks_of(spec: CriterionSpec, value: Decimal) -> Decimal:
    """The marks a validated, stored value is worth: the value itself, or for a ladder criterion its level's
    marks, unrounded (aggregation rounds once, after combining the panel)."""
    if spec.ladder:
        return ladder_to_marks(value, spec.maximum)
    return value
