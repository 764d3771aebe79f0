"""Column types shared by all models."""
from __future__ import annotations

import enum
from decimal import Decimal
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A datetime stored as naive UTC on every database and returned timezone-aware (UTC).

    Naive datetimes are refused: the caller must say which time zone a time is in.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def enum_column(enum_class: type[enum.Enum], length: int = 20) -> sa.Enum:
    """A portable enum stored as its value in a VARCHAR (no native PostgreSQL enum type to migrate)."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ScaledDecimal(TypeDecorator):
    """An exact ``Decimal`` (scores, maxima, steps, weights) stored as a whole number of 10**-places units.

    ``sa.Numeric`` is exact on PostgreSQL but goes through binary floats on SQLite; a scaled BIGINT is exact on
    both, sorts and sums in SQL. A value with more decimal places than the column keeps is refused (ValueError),
    never rounded silently; so are NaN and infinities. Results come back as ``Decimal`` with exactly ``places``
    places (``Decimal("0.50")`` for 0.5 with places=2); compare them as numbers, not as strings.
    """

    impl = sa.BigInteger
    cache_ok = True

    def __init__(self, places: int = 4):
        super().__init__()
        if not 0 <= places <= 8:
            raise ValueError("ScaledDecimal keeps 0 to 8 decimal places")
        self.places = places

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
            raise TypeError(f"ScaledDecimal takes Decimal, int or str, not {type(value).__name__}")
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError("ScaledDecimal cannot store NaN or infinity")
        scaled = number.scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        result = int(scaled)
        if abs(result) > 2**63 - 1:
            raise ValueError(f"{value} is too large")
        return result

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.places)
