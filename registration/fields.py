"""Custom sign-up questions (the form builder): definitions and answers, as pure functions.

A field is shown only when its condition holds (an earlier single or multiple choice has a given answer); a hidden
field is never required and its answer is dropped. ``validate_answers`` returns normalized answers and per-field
error codes; the view turns codes into messages in the user's language.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from registration.identity import parse_email, parse_phone, parse_resident_id


class FieldKind(str, enum.Enum):
    TEXT = "text"
    TEXTAREA = "textarea"
    PHONE = "phone"
    EMAIL = "email"
    ID_NUMBER = "id_number"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    NUMBER = "number"
    DATE = "date"
    UNIT = "unit"
    JOB_TITLE = "job_title"


CHOICE_KINDS = (FieldKind.CHOICE, FieldKind.MULTI_CHOICE)
MAX_LENGTH = {
    FieldKind.TEXT: 200, FieldKind.TEXTAREA: 2000, FieldKind.UNIT: 200, FieldKind.JOB_TITLE: 100,
    FieldKind.PHONE: 30, FieldKind.EMAIL: 254, FieldKind.ID_NUMBER: 30, FieldKind.NUMBER: 30, FieldKind.DATE: 10,
}
PERSONAL_BY_DEFAULT = (FieldKind.PHONE, FieldKind.ID_NUMBER, FieldKind.EMAIL)


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    capacity: int | None = None


@dataclass(frozen=True)
class FieldSpec:
    key: str
    kind: FieldKind
    label: str
    required: bool = False
    options: tuple[Option, ...] = ()
    condition_key: str | None = None
    condition_value: str | None = None
    personal: bool = False


@dataclass
class AnswerResult:
    answers: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def parse_option_lines(text: str) -> list[Option]:
    """Options typed one per line; ``label | capacity`` gives that option its own capacity.

    >>> parse_option_lines("上午工作坊 | 30\\n下午参观")
    [Option(value='上午工作坊', label='上午工作坊', capacity=30), Option(value='下午参观', label='下午参观', capacity=None)]
    """
    options: list[Option] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        label, capacity = line, None
        match = re.fullmatch(r"(.*?)\s*[|｜]\s*(\d{1,6})", line)
        if match:
            label, capacity = match.group(1).strip(), int(match.group(2))
        if label:
            options.append(Option(value=label[:100], label=label[:100], capacity=capacity))
    return options


def validate_definitions(specs: list[FieldSpec]) -> list[tuple[str, str]]:
    """Problems of a whole form, as (field key, code): duplicate keys, choice fields without options or with
    repeated options, conditions that do not point to an earlier choice field and one of its options."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, FieldSpec] = {}
    for spec in specs:
        if spec.key in seen:
            problems.append((spec.key, "duplicate_key"))
        if spec.kind in CHOICE_KINDS:
            values = [o.value for o in spec.options]
            if not values:
                problems.append((spec.key, "options_required"))
            elif len(values) != len(set(values)):
                problems.append((spec.key, "duplicate_option"))
        if spec.condition_key:
            source = seen.get(spec.condition_key)
            if source is None or source.kind not in CHOICE_KINDS:
                problems.append((spec.key, "condition_field"))
            elif spec.condition_value not in {o.value for o in source.options}:
                problems.append((spec.key, "condition_value"))
        seen[spec.key] = spec
    return problems


def is_visible(spec: FieldSpec, answers: dict) -> bool:
    if not spec.condition_key:
        return True
    chosen = answers.get(spec.condition_key)
    if isinstance(chosen, list):
        return spec.condition_value in chosen
    return chosen == spec.condition_value


def _parse_one(spec: FieldSpec, raw):
    """Normalize one visible, non-empty answer; raise ValueError(code)."""
    options = {o.value for o in spec.options}
    if spec.kind == FieldKind.MULTI_CHOICE:
        values = [v for v in raw if v]
        if not set(values) <= options:
            raise ValueError("unknown_option")
        return [o.value for o in spec.options if o.value in values]  # the form's order, no repeats
    text = raw.strip()
    if len(text) > MAX_LENGTH.get(spec.kind, 200):
        raise ValueError("too_long")
    if spec.kind == FieldKind.CHOICE:
        if text not in options:
            raise ValueError("unknown_option")
        return text
    if spec.kind == FieldKind.PHONE:
        return parse_phone(text)
    if spec.kind == FieldKind.EMAIL:
        return parse_email(text)
    if spec.kind == FieldKind.ID_NUMBER:
        return parse_resident_id(text)
    if spec.kind == FieldKind.NUMBER:
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ValueError("not_a_number") from None
        if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
            raise ValueError("not_a_number")
        return str(number)
    if spec.kind == FieldKind.DATE:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("not_a_date") from None
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise ValueError("control_characters")
    return text


def validate_answers(specs: list[FieldSpec], raw: dict) -> AnswerResult:
    """``raw`` maps a key to a string (or a list of strings for multiple choice), as a form posts them."""
    result = AnswerResult()
    for spec in specs:  # in order, so that a condition sees the earlier answers
        if not is_visible(spec, result.answers):
            continue
        value = raw.get(spec.key)
        if spec.kind == FieldKind.MULTI_CHOICE:
            value = [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]
            empty = not any(v.strip() for v in value)
        else:
            value = value[0] if isinstance(value, list) and value else value
            value = "" if value is None else str(value)
            empty = not value.strip()
        if empty:
            if spec.required:
                result.errors[spec.key] = "required"
            continue
        try:
            result.answers[spec.key] = _parse_one(spec, value)
        except ValueError as error:
            result.errors[spec.key] = str(error)
    return result


def chosen_options(spec: FieldSpec, answers: dict) -> list[str]:
    value = answers.get(spec.key)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
