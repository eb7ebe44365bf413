"""Settings of the operational metrics."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import setting, url
from ..core.errors import ConfigError

MODES = ("off", "warehouse", "monitoring")


@dataclass(frozen=True)
class MetricsSettings:
    # off, warehouse (rows of raw.metrics: the local default) or monitoring (Cloud Monitoring).
    mode: str = setting("BINDEROPS_METRICS", "warehouse")
    monitoring_api_url: str = setting("BINDEROPS_MONITORING_API_URL", parse=url)
    # Where the function runs, for the series' generic_task resource.
    region: str = setting("BINDEROPS_REGION", "global")
    # Cloud Run names the service; locally the series say "local".
    service: str = setting("K_SERVICE", "local")

    def check(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(
                f"BINDEROPS_METRICS must be one of {', '.join(MODES)}, got {self.mode!r}"
            )
