"""Invoices of federation members not on Google Cloud: a small, version-controlled CSV file.

Read whole and checked before anything is written, so one bad line changes nothing.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

from ..core.errors import Drop

MICROS = 1_000_000
_MEMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_CURRENCY = re.compile(r"[A-Z]{3}")


class MemberCostsError(Drop):
    """The invoices file has a bad line; the message names the file and line."""

    kind = "invalid_invoices"


@dataclass(frozen=True)
class MemberInvoice:
    member: str
    first: date
    last: date
    amount_micros: int
    currency: str
    # Units of the reporting currency per unit of ``currency``; None when the operator gave none.
    rate: Decimal | None = None

    def reporting_micros(self, reporting: str) -> int | None:
        """The whole invoice in the reporting currency (None: it cannot be converted)."""
        if self.currency == reporting:
            return self.amount_micros
        if self.rate is None:
            return None
        return int((self.amount_micros * self.rate).to_integral_value(ROUND_HALF_EVEN))


def _period(text: str) -> tuple[date, date]:
    if ".." in text:
        first, last = (date.fromisoformat(part.strip()) for part in text.split("..", 1))
    else:
        month = datetime.strptime(text.strip(), "%Y-%m").date()
        first = month
        last = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if first > last:
        raise ValueError(f"period starts {first}, after it ends {last}")
    return first, last


COLUMNS = ["member", "period", "amount", "currency", "rate"]


def _rate(text: str, where: str) -> Decimal | None:
    if not text:
        return None
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise MemberCostsError(f"{where}: rate {text!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise MemberCostsError(f"{where}: rate {text!r} must be a positive number")
    return rate


def read_member_costs(path: Path) -> list[MemberInvoice]:
    """Invoices of federation members: CSV with the header ``member,period,amount,currency``
    and, optionally, ``rate``.

    ``period`` is a month (``2026-03``) or a range of days (``2026-03-01..2026-03-15``);
    ``amount`` is a decimal with at most six places; ``rate`` (may be empty) is how many
    units of the reporting currency one unit of ``currency`` is worth. Blank lines and ``#``
    comments are skipped. Any bad line raises ``MemberCostsError`` naming it, before
    anything is written.
    """
    invoices: list[MemberInvoice] = []
    with open(path, newline="", encoding="utf-8") as f:
        lines = [
            (n, line)
            for n, line in enumerate(f, 1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
    if not lines:
        return invoices
    header_number, header = lines[0]
    names = [h.strip() for h in next(csv.reader([header]))]
    if names not in (COLUMNS[:4], COLUMNS):
        raise MemberCostsError(
            f"{path}:{header_number}: the header must be member,period,amount,currency[,rate]"
        )
    for number, line in lines[1:]:
        cells = [c.strip() for c in next(csv.reader([line]))]
        where = f"{path}:{number}"
        if len(cells) != len(names):
            raise MemberCostsError(
                f"{where}: expected {len(names)} fields ({','.join(names)}), got {len(cells)}"
            )
        member, period, amount, currency, *rest = cells
        rate = _rate(rest[0] if rest else "", where)
        if not _MEMBER.fullmatch(member):
            raise MemberCostsError(
                f"{where}: member {member!r} must be letters, digits, '.', '_' or '-'"
            )
        try:
            first, last = _period(period)
        except ValueError as e:
            raise MemberCostsError(
                f"{where}: period {period!r} is not YYYY-MM or YYYY-MM-DD..YYYY-MM-DD ({e})"
            ) from None
        try:
            micros = Decimal(amount) * MICROS
        except InvalidOperation:
            raise MemberCostsError(f"{where}: amount {amount!r} is not a number") from None
        if not micros.is_finite() or micros != micros.to_integral_value():
            raise MemberCostsError(f"{where}: amount {amount!r} has more than six decimal places")
        if not _CURRENCY.fullmatch(currency):
            raise MemberCostsError(
                f"{where}: currency {currency!r} is not a three-letter ISO 4217 code"
            )
        invoices.append(MemberInvoice(member, first, last, int(micros), currency, rate))
    return invoices
