"""registration.identity: phone numbers, resident ID numbers, e-mail addresses — worked examples and properties."""
from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from registration.identity import (
    id_check_digit,
    parse_email,
    parse_id_document,
    parse_passport,
    parse_phone,
    parse_resident_id,
    parse_taiwan_permit,
)

# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(("raw", "expected"), [
    # mainland mobiles: 11 digits, whatever the separators or the +86 / 0086 prefix
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("  +86 138 0013 8000 ", "13800138000"),
    ("0086 13800138000", "13800138000"),
    ("(+86) 199 9999 9999", "19999999999"),
    ("＋86 13800138000", "13800138000"),  # full-width plus
    ("１３８００１３８０００", "13800138000"),  # full-width digits, as a Chinese input method types them
    ("（138）0013 8000", "13800138000"),
    # Hong Kong +852, Macau +853, Taiwan +886 (a leading 0 after +886 is dropped)
    ("+852 9123 4567", "+85291234567"),
    ("+852 5123-4567", "+85251234567"),
    ("00852 61234567", "+85261234567"),
    ("+853 6612 3456", "+85366123456"),
    ("+853 2888 1234", "+85328881234"),
    ("+886 912 345 678", "+886912345678"),
    ("+886 0912 345 678", "+886912345678"),
    # elsewhere: E.164, 7 to 15 digits
    ("+1 415 555 2671", "+14155552671"),
    ("+65 8123 4567", "+6581234567"),
])
def test_phone_numbers_are_normalized(raw, expected):
    assert parse_phone(raw) == expected


@pytest.mark.parametrize(("raw", "code"), [
    ("", "phone_required"),
    ("   ", "phone_required"),
    (None, "phone_required"),
    ("12800138000", "invalid_phone"),  # mainland mobiles start 13-19
    ("1380013800", "invalid_phone"),  # 10 digits
    ("138001380001", "invalid_phone"),  # 12 digits
    ("010 6552 9988", "invalid_phone"),  # a Beijing landline is not a mobile
    ("+86 12345", "invalid_phone"),
    ("+852 1234 5678", "invalid_phone"),  # Hong Kong numbers do not start with 1
    ("+852 9123 456", "invalid_phone"),  # 7 digits
    ("+853 9123 4567", "invalid_phone"),  # Macau: 2-8
    ("+886 812 345 678", "invalid_phone"),  # Taiwan mobiles start with 9
    ("+886 912 345 67", "invalid_phone"),
    ("+123456", "invalid_phone"),  # too short for E.164
    ("+1234567890123456", "invalid_phone"),  # too long
    ("+١٣٨٠٠١٣٨٠٠٠", "invalid_phone"),  # Arabic-Indic digits are digits, but not ours
    ("138 0013 800O", "invalid_phone"),  # a letter O
    ("phone me", "invalid_phone"),
    ("+", "invalid_phone"),
    ("13800138000; DROP TABLE", "invalid_phone"),
])
def test_bad_phone_numbers_are_refused_with_a_code(raw, code):
    with pytest.raises(ValueError, match=f"^{code}$"):
        parse_phone(raw)


NORMALIZED_PHONE = re.compile(r"(1[3-9][0-9]{9}|\+[0-9]{7,15})")


@given(st.text(max_size=40))
@example("+\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668")
@example("\x00138001380000")
def test_any_text_is_a_normalized_phone_or_a_value_error(raw):
    try:
        phone = parse_phone(raw)
    except ValueError as error:
        assert str(error) in {"phone_required", "invalid_phone"}
    else:
        assert NORMALIZED_PHONE.fullmatch(phone), phone  # ASCII digits only: what the unique constraints compare


@given(st.integers(3, 9), st.integers(0, 10**9 - 1), st.sampled_from(["", " ", "-", "  "]),
       st.sampled_from(["", "+86", "+86 ", "0086"]))
def test_every_mainland_mobile_parses_to_its_11_digits(second, rest, sep, prefix):
    digits = f"1{second}{rest:09d}"
    typed = prefix + sep.join([digits[:3], digits[3:7], digits[7:]])
    assert parse_phone(typed) == digits


# ---------------------------------------------------------------- resident ID numbers

# GB 11643-1999: weight of digit i (from the left, 0-based) is 2^(17-i) mod 11; the check value is
# (12 - sum mod 11) mod 11, written as X for 10. An independent implementation of the rule, to test against.
WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def check_char(first17: str) -> str:
    value = (12 - sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(region: str = "350203", born: date = date(1990, 5, 17), sequence: str = "123") -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    return first17 + check_char(first17)


def test_the_weights_are_the_standards():
    assert WEIGHTS == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


@pytest.mark.parametrize(("raw", "expected"), [
    ("11010519491231002X", "11010519491231002X"),  # the standard's own example
    ("11010519491231002x", "11010519491231002X"),  # a lower-case x
    ("440524198001010013", "440524198001010013"),  # worked by hand: weighted sum 196, 196 mod 11 = 9, (12 - 9) = 3
    ("350203199005171230", "350203199005171230"),  # sum 265, mod 11 = 1, (12 - 1) mod 11 = 0
    ("110105 19491231 002X", "11010519491231002X"),  # spaces as on the card
    ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),  # full-width
    (make_id("350203", date(2000, 2, 29), "001"), make_id("350203", date(2000, 2, 29), "001")),  # a leap day
    (make_id("810000", date(1985, 7, 1), "555"), make_id("810000", date(1985, 7, 1), "555")),
])
def test_valid_resident_id_numbers(raw, expected):
    assert parse_resident_id(raw) == expected


def test_check_digit_matches_hand_worked_examples():
    assert id_check_digit("11010519491231002") == "X"
    assert id_check_digit("44052419800101001") == "3"
    assert id_check_digit("35020319900517123") == "0"
    assert check_char("11010519491231002") == "X"


@pytest.mark.parametrize(("raw", "code"), [
    ("", "id_required"),
    ("110105194912310021", "id_checksum"),  # the example with 1 for X
    ("440524198001010014", "id_checksum"),
    ("440524188001010014", "id_birth_date"),  # a correct check digit, but born in 1880
    ("11010519491231002", "id_format"),  # 17 characters
    ("11010519491231002X1", "id_format"),  # 19
    ("X10105194912310021", "id_format"),  # X elsewhere than last
    ("1101051949123100AX", "id_format"),
    ("35020319900230001" + "0", "id_birth_date"),  # 30 February
    ("35020319901301001" + "0", "id_birth_date"),  # month 13
    ("35020319900000001" + "0", "id_birth_date"),  # day 0
    (make_id("350203", date(1899, 12, 31)), "id_birth_date"),  # before 1900
    ("３５０２０３１９９０" + "0532" + "1230", "id_birth_date"),  # full-width, 32 May
])
def test_bad_resident_id_numbers_are_refused_with_a_code(raw, code):
    with pytest.raises(ValueError, match=f"^{code}$"):
        parse_resident_id(raw)


region = st.text(alphabet="0123456789", min_size=6, max_size=6)
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
sequence = st.text(alphabet="0123456789", min_size=3, max_size=3)


@given(region, births, sequence)
def test_a_valid_prefix_with_its_computed_check_digit_always_parses(region, born, seq):
    number = make_id(region, born, seq)
    assert parse_resident_id(number) == number
    assert parse_resident_id(number.lower()) == number


@given(region, births, sequence, st.integers(0, 17), st.integers(1, 10))
def test_any_single_character_change_is_caught(region, born, seq, position, shift):
    number = make_id(region, born, seq)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = alphabet[(alphabet.index(number[position]) + shift) % len(alphabet)]
    if replacement == number[position]:  # shift 10 on a 10-letter alphabet: no change
        return
    changed = number[:position] + replacement + number[position + 1:]
    with pytest.raises(ValueError, match="^(id_checksum|id_birth_date)$"):
        parse_resident_id(changed)


@given(region, births, sequence, st.integers(0, 15))
def test_swapping_two_different_neighbouring_digits_is_caught(region, born, seq, position):
    number = make_id(region, born, seq)
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2:]
    with pytest.raises(ValueError, match="^(id_checksum|id_birth_date)$"):
        parse_resident_id(swapped)


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    ("resident_id", "11010519491231002x", "11010519491231002X"),
    ("passport", "e1234 5678", "E12345678"),
    ("passport", "ＥＡ１２３４５６７", "EA1234567"),
    ("taiwan_permit", "0123 4567", "01234567"),
    ("taiwan_permit", "a123456789", "A123456789"),
])
def test_other_documents(kind, raw, expected):
    assert parse_id_document(kind, raw) == expected


@pytest.mark.parametrize(("kind", "raw", "code"), [
    ("passport", "E12", "passport_format"),
    ("passport", "E1234-5678-9012-3456-7890", "passport_format"),  # 21 characters
    ("passport", "护照123456", "passport_format"),
    ("taiwan_permit", "1234567", "permit_format"),
    ("taiwan_permit", "１２３４５６７", "permit_format"),
    ("driving_licence", "123456", "id_kind"),
])
def test_bad_other_documents(kind, raw, code):
    with pytest.raises(ValueError, match=f"^{code}$"):
        parse_id_document(kind, raw)


def test_document_parsers_are_reachable_directly():
    assert parse_passport(" g 1234 5678 ") == "G12345678"
    assert parse_taiwan_permit("87654321") == "87654321"


# ---------------------------------------------------------------- e-mail


@pytest.mark.parametrize(("raw", "expected"), [
    ("zhang.wei@example.org", "zhang.wei@example.org"),
    ("  Zhang.Wei@Example.ORG ", "Zhang.Wei@example.org"),  # the domain is lower-cased, the local part kept
    ("li+saihui@xmu.edu.cn", "li+saihui@xmu.edu.cn"),
    ("王喆@例子.中国", "王喆@例子.中国"),
    ("a@b.cn", "a@b.cn"),
])
def test_valid_email_addresses(raw, expected):
    assert parse_email(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "zhang.wei", "zhang.wei@", "@example.org", "zhang@example", "zhang@example.c", "zhang wei@example.org",
    "zhang@@example.org", "zhang@exa mple.org", "x" * 65 + "@example.org", "a@" + "b" * 250 + ".cn", None,
])
def test_bad_email_addresses(raw):
    with pytest.raises(ValueError, match="^invalid_email$"):
        parse_email(raw)
