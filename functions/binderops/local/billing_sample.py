"""A generated Cloud Billing export for the local stack and tests: the real column layout
(nested records, repeated credits and labels, ``_PARTITIONTIME``) in the DuckDB warehouse.

It carries what makes "the number" hard: credits of several types, tax, a refund
adjustment, rows exported days late, a day with only credits, and a second currency.
"""

from __future__ import annotations

import json
import random
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from ..warehouse import schemas
from ..warehouse.duckdb import column_definitions, column_type

SERVICES = [
    ("6F81-5844-456A", "Compute Engine", 38.0),
    ("CCD8-9BF1-090E", "Kubernetes Engine", 9.0),
    ("95FF-2EF5-5EA1", "Cloud Storage", 4.0),
    ("E505-1604-58F8", "Networking", 6.5),
    ("24E6-581D-38E5", "BigQuery", 0.7),
]
PROJECTS = ["binder-prod", "binder-staging"]
CREDIT_TYPES = ["SUSTAINED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT", "FREE_TIER", "PROMOTION"]


def _columns():
    return schemas.columns("bigquery/billing_export.json")


def create_billing_table(con, name: str) -> None:
    """The export's table in DuckDB: its schema plus the ``_PARTITIONTIME`` pseudo-column."""
    columns = column_definitions(_columns())
    con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({columns}, "_PARTITIONTIME" TIMESTAMPTZ)')


def export_row(
    day: date,
    hour: int,
    service: tuple,
    project: str,
    cost: float,
    currency: str,
    credits: list,
    lag_days: int = 0,
    cost_type: str = "regular",
    adjustment: dict | None = None,
) -> dict:
    start = datetime.combine(day, time(hour), UTC)
    export = start + timedelta(hours=6, days=lag_days)
    return {
        "billing_account_id": "012345-6789AB-CDEF01",
        "service": {"id": service[0], "description": service[1]},
        "sku": {"id": f"{service[0][:4]}-SKU", "description": f"{service[1]} usage"},
        "usage_start_time": start.isoformat(),
        "usage_end_time": (start + timedelta(hours=1)).isoformat(),
        "project": {
            "id": project,
            "number": str(abs(hash(project)) % 10**12),
            "name": project,
            "labels": [{"key": "team", "value": "binder"}],
            "ancestry_numbers": "/123/",
        },
        "labels": [{"key": "component", "value": service[1].lower().replace(" ", "-")}],
        "system_labels": [],
        "location": {
            "location": "us-central1",
            "country": "US",
            "region": "us-central1",
            "zone": None,
        },
        "export_time": export.isoformat(),
        "cost": cost,
        "currency": currency,
        "currency_conversion_rate": 1.0 if currency == "USD" else 0.92,
        "usage": {
            "amount": 3600.0,
            "unit": "seconds",
            "amount_in_pricing_units": 1.0,
            "pricing_unit": "hour",
        },
        "credits": credits,
        "invoice": {"month": day.strftime("%Y%m")},
        "cost_type": cost_type,
        "adjustment_info": adjustment,
        "_PARTITIONTIME": datetime.combine(export.date(), time(), UTC).isoformat(),
    }


def credit(kind: str, amount: float) -> dict:
    return {
        "name": kind.replace("_", " ").title(),
        "amount": amount,
        "full_name": kind,
        "id": f"credit-{kind.lower()}",
        "type": kind,
    }


def sample_rows(last_day: date, days: int = 30, seed: int = 17) -> list[dict]:
    """A deterministic export covering ``days`` days up to ``last_day`` (UTC)."""
    rng = random.Random(seed)
    rows = []
    for n in range(days):
        day = last_day - timedelta(days=days - 1 - n)
        for service in SERVICES:
            for project in PROJECTS:
                for hour in (1, 7, 13, 19):
                    cost = round(
                        service[2]
                        / 4
                        * rng.uniform(0.6, 1.4)
                        * (1 if project == "binder-prod" else 0.2),
                        6,
                    )
                    credits = [
                        credit(k, -round(cost * rng.uniform(0.02, 0.2), 6))
                        for k in rng.sample(CREDIT_TYPES, rng.randint(0, 2))
                    ]
                    lag = 3 if rng.random() < 0.1 else 0  # exported days late
                    rows.append(export_row(day, hour, service, project, cost, "USD", credits, lag))
        rows.append(
            export_row(day, 12, SERVICES[2], "binder-eu", round(rng.uniform(1, 3), 6), "EUR", [])
        )
        rows.append(
            export_row(
                day,
                23,
                SERVICES[0],
                "binder-prod",
                round(rng.uniform(0.5, 1), 6),
                "USD",
                [],
                cost_type="tax",
            )
        )
    only_credits = last_day - timedelta(days=days // 2)
    rows.append(
        export_row(
            only_credits, 2, SERVICES[4], "binder-prod", 0.0, "USD", [credit("PROMOTION", -12.5)]
        )
    )
    refund_day = last_day - timedelta(days=3)
    rows.append(
        export_row(
            refund_day,
            3,
            SERVICES[0],
            "binder-prod",
            -20.0,
            "USD",
            [],
            lag_days=1,
            cost_type="adjustment",
            adjustment={
                "id": "adj-1",
                "description": "Refund for an outage",
                "mode": "MANUAL_ADJUSTMENTS",
                "type": "GENERAL_ADJUSTMENT",
            },
        )
    )
    return rows


def load_rows(con, name: str, rows: list[dict]) -> None:
    """Append export rows (dicts of the export's JSON form) to the DuckDB billing table."""
    create_billing_table(con, name)
    if not rows:
        return
    columns = {c.name: column_type(c) for c in _columns()} | {"_PARTITIONTIME": "TIMESTAMPTZ"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        spec = ", ".join(f"'{k}': '{v}'" for k, v in columns.items())
        con.execute(
            f"INSERT INTO \"{name}\" BY NAME SELECT * FROM read_json('{path}', columns = "
            f"{{{spec}}}, format = 'newline_delimited')"
        )
