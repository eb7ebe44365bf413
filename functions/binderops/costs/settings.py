"""What the cost export reads from its environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core.config import path, setting
from ..core.errors import ConfigError


@dataclass(frozen=True)
class CostSettings:
    billing_table: str = setting(
        "BINDEROPS_BILLING_TABLE", "gcp_billing_export_v1_000000_000000_000000"
    )
    cost_timezone: str = setting("BINDEROPS_COST_TIMEZONE", "UTC")
    cost_window_days: int = setting("BINDEROPS_COST_WINDOW_DAYS", 7)
    member_costs: Path | None = setting("BINDEROPS_MEMBER_COSTS", None, parse=path)
    # The reporting currency: every cost is converted to it (the billing export's own rate,
    # an invoice's rate); what cannot be is left out of totals and listed beside them.
    currency: str = setting("BINDEROPS_COST_CURRENCY", "USD")

    def check(self) -> None:
        if not (len(self.currency) == 3 and self.currency.isupper() and self.currency.isalpha()):
            raise ConfigError(
                f"BINDEROPS_COST_CURRENCY must be an ISO 4217 code such as USD, got {self.currency!r}"
            )
        if self.cost_window_days < 1:
            raise ConfigError("BINDEROPS_COST_WINDOW_DAYS must be at least 1")
        try:
            ZoneInfo(self.cost_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                "BINDEROPS_COST_TIMEZONE must be an IANA time zone such as UTC or America/Los_Angeles, "
                f"got {self.cost_timezone!r}"
            ) from None
