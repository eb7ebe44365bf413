"""Cloud cost export: real SQL on DuckDB over fixture exports, the BigQuery and Cloud Storage
paths through the real clients over loopback, and the invoices file."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fakes.bigquery import FakeBigQuery
from fakes.http import RecordingServer
from fakes.storage import FakeStorage

from binderops.core.config import Settings, read
from binderops.costs import export as costs
from binderops.costs.export import Window
from binderops.costs.invoices import MemberCostsError, read_member_costs
from binderops.costs.settings import CostSettings
from binderops.local import billing_sample
from binderops.local.billing_sample import SERVICES, credit, export_row
from binderops.warehouse import open_warehouse, schemas

TABLE = "gcp_billing_export_v1_000000_000000_000000"
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
MARCH = Window(date(2026, 3, 1), date(2026, 3, 9))
COMPUTE, GKE = SERVICES[0], SERVICES[1]


def load(warehouse, rows):
    with warehouse.session() as con:
        billing_sample.load_rows(con, TABLE, rows)


def figures(warehouse, where="TRUE"):
    """The table without computed_at: what a re-run must leave alone."""
    return warehouse.query(
        "SELECT day, source, service, project, currency, cost_type, cost_micros, credits_micros, net_micros "
        f"FROM cloud_costs_daily WHERE {where} ORDER BY day, source, service, project, currency, cost_type"
    )


def export(warehouse, window=MARCH, tz="UTC", invoices=(), now=NOW):
    return costs.export(warehouse, TABLE, tz, window, list(invoices), now)


def test_credits_of_several_types_are_summed_in_exact_micros(warehouse):
    load(
        warehouse,
        [
            export_row(
                date(2026, 3, 2),
                1,
                COMPUTE,
                "binder-prod",
                0.1,
                "USD",
                [credit("FREE_TIER", -0.01), credit("SUSTAINED_USAGE_DISCOUNT", -0.02)],
            )
            for _ in range(10)
        ],
    )
    export(warehouse)
    assert figures(warehouse) == [
        {
            "day": date(2026, 3, 2),
            "source": "gcp-billing-export",
            "service": "Compute Engine",
            "project": "binder-prod",
            "currency": "USD",
            "cost_type": "regular",
            "cost_micros": 1_000_000,
            "credits_micros": -300_000,
            "net_micros": 700_000,
        }
    ]


def test_refund_tax_and_a_day_with_only_credits_are_kept_and_labelled(warehouse):
    load(
        warehouse,
        [
            export_row(
                date(2026, 3, 3),
                1,
                COMPUTE,
                "binder-prod",
                -20.0,
                "USD",
                [],
                cost_type="adjustment",
                adjustment={
                    "id": "a",
                    "description": "refund",
                    "mode": "MANUAL_ADJUSTMENTS",
                    "type": "GENERAL_ADJUSTMENT",
                },
            ),
            export_row(
                date(2026, 3, 3), 2, COMPUTE, "binder-prod", 1.5, "USD", [], cost_type="tax"
            ),
            export_row(
                date(2026, 3, 4), 2, GKE, "binder-prod", 0.0, "USD", [credit("PROMOTION", -12.5)]
            ),
        ],
    )
    export(warehouse)
    assert [
        (r["day"].day, r["cost_type"], r["cost_micros"], r["credits_micros"], r["net_micros"])
        for r in figures(warehouse)
    ] == [
        (3, "adjustment", -20_000_000, 0, -20_000_000),
        (3, "tax", 1_500_000, 0, 1_500_000),
        (4, "regular", 0, -12_500_000, -12_500_000),
    ]


def test_currencies_are_kept_apart(warehouse):
    load(
        warehouse,
        [
            export_row(date(2026, 3, 5), 1, COMPUTE, "p", 2.0, "USD", []),
            export_row(date(2026, 3, 5), 1, COMPUTE, "p", 3.0, "EUR", []),
        ],
    )
    result = export(warehouse)
    assert result.net_micros == {"USD": 2_000_000, "EUR": 3_000_000}
    assert [(r["currency"], r["net_micros"]) for r in figures(warehouse)] == [
        ("EUR", 3_000_000),
        ("USD", 2_000_000),
    ]


def test_the_day_boundary_follows_the_configured_time_zone(warehouse):
    # 07:00 UTC on 2 March is 23:00 on 1 March in Los Angeles (PST, UTC-8).
    load(
        warehouse,
        [
            export_row(date(2026, 3, 2), 7, COMPUTE, "p", 1.0, "USD", []),
            export_row(date(2026, 3, 2), 9, COMPUTE, "p", 2.0, "USD", []),
        ],
    )
    export(warehouse, tz="UTC")
    assert [(r["day"], r["net_micros"]) for r in figures(warehouse)] == [
        (date(2026, 3, 2), 3_000_000)
    ]
    export(warehouse, tz="America/Los_Angeles")
    assert [(r["day"], r["net_micros"]) for r in figures(warehouse)] == [
        (date(2026, 3, 1), 1_000_000),
        (date(2026, 3, 2), 2_000_000),
    ]
    lines = [
        json.loads(line)
        for line in costs.published_costs(
            warehouse, "America/Los_Angeles", "USD", date(2026, 3, 10)
        ).daily.splitlines()
    ]
    assert lines[0] == {
        "version": 3,
        "start_time": "2026-03-01T00:00:00-08:00",
        "end_time": "2026-03-02T00:00:00-08:00",
        "cost": 1.0,
        "currency": "USD",
    }


def test_a_late_row_changes_exactly_its_day_and_a_rerun_changes_nothing(warehouse):
    load(
        warehouse,
        [export_row(date(2026, 3, d), 1, COMPUTE, "p", 1.0, "USD", []) for d in range(1, 10)],
    )
    export(warehouse)
    before = figures(warehouse)
    export(warehouse)
    assert figures(warehouse) == before  # idempotent
    load(
        warehouse, [export_row(date(2026, 3, 4), 5, COMPUTE, "p", 0.25, "USD", [], lag_days=4)]
    )  # exported 4 days late
    export(warehouse)
    after = figures(warehouse)
    changed = [(b, a) for b, a in zip(before, after) if b != a]
    assert changed == [
        (before[3], {**before[3], "cost_micros": 1_250_000, "net_micros": 1_250_000})
    ]


def test_days_outside_the_window_are_left_alone(warehouse):
    load(warehouse, [export_row(date(2026, 3, d), 1, COMPUTE, "p", 1.0, "USD", []) for d in (1, 8)])
    export(warehouse, window=Window(date(2026, 3, 1), date(2026, 3, 9)))
    export(
        warehouse,
        window=Window(date(2026, 3, 5), date(2026, 3, 9)),
        now=datetime(2026, 3, 11, tzinfo=UTC),
    )
    rows = warehouse.query("SELECT day, computed_at FROM cloud_costs_daily ORDER BY day")
    assert [(r["day"].day, r["computed_at"].day) for r in rows] == [(1, 10), (8, 11)]


@pytest.mark.parametrize(
    "today, first",
    [
        (date(2026, 3, 20), date(2026, 3, 13)),
        (date(2026, 3, 5), date(2026, 2, 1)),  # the previous invoice month is still settling
        (date(2026, 3, 6), date(2026, 2, 27)),
        (date(2026, 1, 2), date(2025, 12, 1)),
    ],
)
def test_trailing_window(today, first):
    assert costs.trailing_window(today, 7) == Window(first, today)


def test_manual_reruns_name_their_days_and_bad_requests_say_why():
    today = date(2026, 3, 20)
    assert costs.requested_window({"start": "2026-01-01", "end": "2026-01-31"}, today, 7) == Window(
        date(2026, 1, 1), date(2026, 1, 31)
    )
    assert costs.requested_window({"start": "2026-03-01"}, today, 7) == Window(
        date(2026, 3, 1), today
    )
    for request, message in [
        ({"start": "yesterday"}, "YYYY-MM-DD"),
        ({"start": "2026-03-05", "end": "2026-03-01"}, "after end"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "at most 400 days"),
    ]:
        with pytest.raises(costs.ExportRequestError, match=message):
            costs.requested_window(request, today, 7)


def test_member_invoices_are_spread_exactly_over_their_days(tmp_path, warehouse):
    path = tmp_path / "members.csv"
    path.write_text(
        "# federation "
        "members\nmember,period,amount,currency\ngesis,2026-02,1000.00,EUR\novh,2026-03-01..2026-03-03,100.00,EUR\n"
    )
    invoices = read_member_costs(path)
    load(warehouse, [])  # an export with no rows yet
    rows = costs.member_rows(invoices, Window(date(2026, 2, 1), date(2026, 3, 31)), NOW, "USD")
    gesis = [r.net_micros for r in rows if r.source == "invoice:gesis"]
    ovh = [r.net_micros for r in rows if r.source == "invoice:ovh"]
    assert len(gesis) == 28 and sum(gesis) == 1_000_000_000 and max(gesis) - min(gesis) == 1
    assert ovh == [33_333_334, 33_333_333, 33_333_333]
    export(warehouse, invoices=invoices)  # the window holds only ovh's days
    assert [
        (r["day"].day, r["source"], r["cost_type"], r["net_micros"]) for r in figures(warehouse)
    ] == [
        (1, "invoice:ovh", "invoice", 33_333_334),
        (2, "invoice:ovh", "invoice", 33_333_333),
        (3, "invoice:ovh", "invoice", 33_333_333),
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        ("gesis,2026-02,abc,EUR", "members.csv:3: amount 'abc' is not a number"),
        (
            "gesis,2026-02,1.0000001,EUR",
            "members.csv:3: amount '1.0000001' has more than six decimal places",
        ),
        ("gesis,2026-13,10,EUR", "members.csv:3: period '2026-13' is not YYYY-MM"),
        ("gesis,2026-03-05..2026-03-01,10,EUR", "members.csv:3: period '2026-03-05..2026-03-01'"),
        ("gesis,2026-02,10,euro", "members.csv:3: currency 'euro' is not a three-letter"),
        ("gesis,2026-02,10", "members.csv:3: expected 4 fields"),
        ("ge sis!,2026-02,10,EUR", "members.csv:3: member 'ge sis!'"),
    ],
)
def test_bad_invoice_lines_are_named_and_nothing_is_written(tmp_path, warehouse, line, message):
    path = tmp_path / "members.csv"
    path.write_text(f"member,period,amount,currency\nok,2026-02,5,EUR\n{line}\n")
    with pytest.raises(MemberCostsError, match=message.replace("(", r"\(").replace(".", r"\.")):
        read_member_costs(path)
    load(warehouse, [export_row(date(2026, 3, 2), 1, COMPUTE, "p", 1.0, "USD", [])])
    settings = replace(read(CostSettings, {}), billing_table=TABLE, member_costs=path)
    shared = read(Settings, {"BINDEROPS_PUBLIC_DIR": str(tmp_path / "public")})
    with pytest.raises(MemberCostsError):
        costs.run(warehouse, settings, shared, {"start": "2026-03-01", "end": "2026-03-09"}, NOW)
    assert figures(warehouse) == [] and not (tmp_path / "public").exists()


def test_run_publishes_cloud_costs_jsonl_atomically(tmp_path, warehouse):
    """mybinder.org's shape: exactly one line per day, which readers index by day."""
    load(warehouse, billing_sample.sample_rows(date(2026, 3, 9), days=9))
    settings = replace(read(CostSettings, {}), billing_table=TABLE)
    shared = read(Settings, {"BINDEROPS_PUBLIC_DIR": str(tmp_path / "public")})
    _, location = costs.run(
        warehouse, settings, shared, {"start": "2026-03-01", "end": "2026-03-09"}, NOW
    )
    lines = [json.loads(line) for line in Path(location).read_text().splitlines()]
    assert len(lines) == 9 and len({line["start_time"] for line in lines}) == 9
    assert {tuple(line) for line in lines} == {
        ("version", "start_time", "end_time", "cost", "currency")
    }
    assert {(line["version"], line["currency"]) for line in lines} == {(3, "USD")}
    # Every day in USD: the EUR project converted by the export's own rate.
    converted = warehouse.query(
        "SELECT SUM(reporting_net_micros) AS n FROM cloud_costs_daily WHERE reporting_currency = 'USD'"
    )[0]["n"]
    assert sum(round(line["cost"] * 1_000_000) for line in lines) == converted
    assert sorted(p.name for p in (tmp_path / "public").iterdir()) == [
        "cloud-costs-detail.jsonl",
        "cloud-costs.jsonl",
    ]  # no temporary left


def test_the_detail_file_breaks_each_day_down_by_source_and_currency(tmp_path, warehouse):
    load(warehouse, billing_sample.sample_rows(date(2026, 3, 9), days=9))
    path = tmp_path / "members.csv"
    path.write_text(
        "member,period,amount,currency\ngesis,2026-03,310.00,EUR\n2i2c,2026-03,31.00,USD\n"
    )
    settings = replace(read(CostSettings, {}), billing_table=TABLE, member_costs=path)
    shared = read(Settings, {"BINDEROPS_PUBLIC_DIR": str(tmp_path / "public")})
    _, location = costs.run(
        warehouse, settings, shared, {"start": "2026-03-01", "end": "2026-03-09"}, NOW
    )
    detail = [
        json.loads(line)
        for line in (tmp_path / "public" / "cloud-costs-detail.jsonl").read_text().splitlines()
    ]
    keys = ("version", "start_time", "end_time", "source", "currency", "gross", "credits", "net")
    keys += ("reporting_currency", "reporting_net")
    assert {tuple(line) for line in detail} == {keys}
    assert {(line["source"], line["currency"]) for line in detail} == {
        ("gcp-billing-export", "USD"),
        ("gcp-billing-export", "EUR"),
        ("invoice:gesis", "EUR"),
        ("invoice:2i2c", "USD"),
    }
    assert all(round(line["gross"] + line["credits"] - line["net"], 6) == 0 for line in detail)
    daily = {
        json.loads(x)["start_time"]: json.loads(x)["cost"]
        for x in Path(location).read_text().splitlines()
    }
    for start, cost in daily.items():  # the day's total: every source's, converted to USD
        usd = [d["reporting_net"] for d in detail if d["start_time"] == start]
        assert None not in usd or start.startswith("2026-03")  # gesis has no rate
        assert round(cost - sum(u for u in usd if u is not None), 6) == 0


def test_the_daily_total_follows_the_configured_billing_currency(tmp_path, warehouse):
    load(warehouse, billing_sample.sample_rows(date(2026, 3, 9), days=9))
    settings = replace(read(CostSettings, {"BINDEROPS_COST_CURRENCY": "EUR"}), billing_table=TABLE)
    shared = read(Settings, {"BINDEROPS_PUBLIC_DIR": str(tmp_path / "public")})
    result, location = costs.run(
        warehouse, settings, shared, {"start": "2026-03-01", "end": "2026-03-09"}, NOW
    )
    lines = [json.loads(line) for line in Path(location).read_text().splitlines()]
    assert round(sum(line["cost"] for line in lines) * 1e6) == result.net_micros["EUR"]


def test_bigquery_path_sends_the_billing_sql_with_parameters_and_replaces_days_in_one_transaction():
    fake = FakeBigQuery()
    fake.made_by_setup("binder-prod", "binder_launches")
    billing = schemas.read_json("bigquery/billing_export.json")
    fake.external("billing-proj.billing.gcp_billing_export_v1_0A", billing, partitioned=True)
    fake.answers.append(
        (
            [
                {"name": n, "type": t}
                for n, t in [
                    ("day", "DATE"),
                    ("service", "STRING"),
                    ("project", "STRING"),
                    ("currency", "STRING"),
                    ("cost_type", "STRING"),
                    ("cost_micros", "INTEGER"),
                    ("credits_micros", "INTEGER"),
                    ("net_micros", "INTEGER"),
                    ("reporting_net_micros", "INTEGER"),
                ]
            ],
            [
                [
                    "2026-03-01",
                    "Compute Engine",
                    "binder-prod",
                    "USD",
                    "regular",
                    "5000000",
                    "-1000000",
                    "4000000",
                    "4000000",
                ]
            ],
        )
    )
    with RecordingServer(fake) as server:
        warehouse = open_warehouse(
            "bigquery://binder-prod/binder_launches", bigquery_api_url=server.url
        )
        result = costs.export(
            warehouse,
            "billing-proj.billing.gcp_billing_export_v1_0A",
            "America/Los_Angeles",
            Window(date(2026, 3, 1), date(2026, 3, 7)),
            [],
            NOW,
        )
        warehouse.close()
    assert result.rows == 1
    query, script = fake.queries
    assert "FROM `billing-proj.billing.gcp_billing_export_v1_0A`" in query["query"]
    assert (
        "_PARTITIONTIME >= TIMESTAMP_SUB(CAST(@start_date AS TIMESTAMP), INTERVAL 2 DAY)"
        in query["query"]
    )
    assert query["parameterMode"] == "NAMED"
    assert {
        p["name"]: (p["parameterType"]["type"], p["parameterValue"]["value"])
        for p in query["queryParameters"]
    } == {
        "tz": ("STRING", "America/Los_Angeles"),
        "start_date": ("DATE", "2026-03-01"),
        "end_date": ("DATE", "2026-03-07"),
        "currency": ("STRING", "USD"),
    }
    assert script["query"] == (
        "BEGIN TRANSACTION;\n"
        "DELETE FROM `binder-prod.binder_launches.cloud_costs_daily` WHERE day BETWEEN @first AND @last;\n"
        "INSERT INTO `binder-prod.binder_launches.cloud_costs_daily` SELECT * FROM UNNEST(@rows);\n"
        "COMMIT TRANSACTION;"
    )
    params = {p["name"]: p for p in script["queryParameters"]}
    assert (
        params["first"]["parameterValue"]["value"] == "2026-03-01"
        and params["last"]["parameterValue"]["value"] == "2026-03-07"
    )
    (row,) = params["rows"]["parameterValue"]["arrayValues"]
    assert {k: v["value"] for k, v in row["structValues"].items()} == {
        "day": "2026-03-01",
        "source": "gcp-billing-export",
        "service": "Compute Engine",
        "project": "binder-prod",
        "currency": "USD",
        "cost_type": "regular",
        "cost_micros": "5000000",
        "credits_micros": "-1000000",
        "net_micros": "4000000",
        "computed_at": "2026-03-10 12:00:00+00:00",
        "reporting_currency": "USD",
        "reporting_net_micros": "4000000",
    }


def test_cloud_storage_upload_goes_through_the_real_client(tmp_path):
    from binderops.clients.public import write_public

    fake = FakeStorage()
    with RecordingServer(fake) as server:
        settings = read(
            Settings,
            {
                "BINDEROPS_PUBLIC_DIR": str(tmp_path),
                "BINDEROPS_PUBLIC_BUCKET": "binder-public",
                "BINDEROPS_STORAGE_API_URL": server.url,
            },
        )
        where = write_public(
            "cloud-costs.jsonl", b'{"version": 1}\n', "application/x-ndjson", settings
        )
    assert where == "gs://binder-public/cloud-costs.jsonl"
    stored = fake.objects["binder-public/cloud-costs.jsonl"]
    assert stored["data"] == b'{"version": 1}\n'
    assert stored["content_type"] == "application/x-ndjson"
    assert stored["metadata"]["cacheControl"] == "public, max-age=300"
    assert "authorization" not in server.requests[-1].headers
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def cost_env(tmp_path, monkeypatch):
    """A DuckDB warehouse holding nine days of generated export, configured by environment."""
    env = {
        "BINDEROPS_WAREHOUSE": f"duckdb://{tmp_path / 'w.duckdb'}",
        "BINDEROPS_BILLING_TABLE": TABLE,
        "BINDEROPS_PUBLIC_DIR": str(tmp_path / "public"),
        "BINDEROPS_COST_TIMEZONE": "America/Los_Angeles",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    warehouse = open_warehouse(env["BINDEROPS_WAREHOUSE"])
    warehouse.setup()
    load(warehouse, billing_sample.sample_rows(date(2026, 3, 9), days=9))
    warehouse.close()
    return env


def test_export_costs_function_takes_a_manual_date_range(cost_env, tmp_path, capfd):
    import base64

    from cloudevents.conversion import to_binary
    from cloudevents.http import CloudEvent
    from functions_framework import create_app

    from binderops import instance

    instance.reset()
    client = create_app(
        "export_costs",
        str(Path(__file__).resolve().parent.parent / "functions" / "main.py"),
        "cloudevent",
    ).test_client()

    def tick(request: dict) -> int:
        data = {
            "message": {
                "data": base64.b64encode(json.dumps(request).encode()).decode(),
                "messageId": "9",
            }
        }
        event = CloudEvent(
            {
                "id": "9",
                "type": "google.cloud.pubsub.topic.v1.messagePublished",
                "source": "//pubsub/ticks",
            },
            data,
        )
        headers, body = to_binary(event)
        return client.post("/", headers=headers, data=body).status_code

    try:
        assert tick({"start": "2026-03-02", "end": "2026-03-04"}) == 200
        published = Path(cost_env["BINDEROPS_PUBLIC_DIR"]) / "cloud-costs.jsonl"
        days = sorted(
            {json.loads(line)["start_time"][:10] for line in published.read_text().splitlines()}
        )
        assert days == ["2026-03-02", "2026-03-03", "2026-03-04"]
        assert (
            json.loads(published.read_text().splitlines()[0])["start_time"]
            == "2026-03-02T00:00:00-08:00"
        )
        before = published.read_bytes()
        capfd.readouterr()
        assert tick({"start": "not-a-date"}) == 200  # acknowledged: retrying cannot help
        assert "export_costs: start and end must be YYYY-MM-DD dates" in capfd.readouterr().err
        assert published.read_bytes() == before
    finally:
        instance.warehouse().close()
        instance.reset()


def binderops_costs(*args: str, env: dict, cwd=None):
    """``binderops costs ARGS`` as a user runs it: a real process."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "binderops.local.cli", "costs", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_binderops_costs_prints_the_days_it_replaced(cost_env):
    import os

    out = binderops_costs(
        "--start", "2026-03-07", "--end", "2026-03-08", env={**os.environ, **cost_env}
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["day", "source", "currency", "cost", "credits", "net"]
    assert [line.split()[:3] for line in lines[2:6]] == [
        ["2026-03-07", "gcp-billing-export", "EUR"],
        ["2026-03-07", "gcp-billing-export", "USD"],
        ["2026-03-08", "gcp-billing-export", "EUR"],
        ["2026-03-08", "gcp-billing-export", "USD"],
    ]
    assert "replaced 2026-03-07..2026-03-08 (America/Los_Angeles days)" in out.stdout
    bad = binderops_costs(
        "--start", "2026-03-09", "--end", "2026-03-01", env={**os.environ, **cost_env}
    )
    assert (
        bad.returncode == 2
        and "binderops costs: start 2026-03-09 is after end 2026-03-01" in bad.stderr
    )
    missing = binderops_costs(env={**os.environ, **cost_env, "BINDEROPS_BILLING_TABLE": "nowhere"})
    assert missing.returncode == 2 and "cannot read the billing export 'nowhere'" in missing.stderr
    assert "set BINDEROPS_BILLING_TABLE" in missing.stderr


def test_binderops_costs_outside_the_sample_stack_adds_no_invoice(cost_env, tmp_path):
    """Run in a checkout, against any warehouse: the repository's sample invoices are the
    sample stack's alone, so with BINDEROPS_MEMBER_COSTS unset no invoice is added."""
    import os

    from binderops.local.services import SAMPLE_MEMBER_COSTS

    env = {k: v for k, v in os.environ.items() if k != "BINDEROPS_MEMBER_COSTS"} | cost_env
    out = binderops_costs("--start", "2026-03-01", "--end", "2026-03-09", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    detail = Path(cost_env["BINDEROPS_PUBLIC_DIR"], "cloud-costs-detail.jsonl").read_text()
    sources = {json.loads(line)["source"] for line in detail.splitlines()}
    assert SAMPLE_MEMBER_COSTS.is_file()  # there to be read, and not read
    assert sources == {"gcp-billing-export"}


def test_every_currency_is_converted_to_the_micro_and_what_cannot_be_is_listed(tmp_path, warehouse):
    """A USD project, a EUR project (the export's own rate), EUR and CHF invoices with rates,
    and a CHF month without one: each complete day's cost is the exact sum of the converted
    parts, the CHF month is listed beside it, and today is never published."""
    rows = []
    for d in range(1, 11):
        rows.append(export_row(date(2026, 3, d), 1, COMPUTE, "binder-prod", 1.25, "USD", []))
        rows.append(
            export_row(
                date(2026, 3, d), 2, GKE, "binder-eu", 2.3, "EUR", [credit("PROMOTION", -0.23)]
            )
        )
    load(warehouse, rows)
    path = tmp_path / "members.csv"
    path.write_text(
        "member,period,amount,currency,rate\n"
        "gesis,2026-03,310.00,EUR,1.08\n"
        "sfu,2026-02,28.00,CHF,1.13\n"
        "sfu,2026-03,62.00,CHF,\n"
    )
    settings = replace(read(CostSettings, {}), billing_table=TABLE, member_costs=path)
    shared = read(Settings, {"BINDEROPS_PUBLIC_DIR": str(tmp_path / "public")})
    _, location = costs.run(
        warehouse, settings, shared, {"start": "2026-02-01", "end": "2026-03-10"}, NOW
    )
    lines = {
        json.loads(x)["start_time"][:10]: json.loads(x)
        for x in Path(location).read_text().splitlines()
    }
    assert "2026-03-10" not in lines  # today, unfinished
    assert min(lines) == "2026-02-01" and max(lines) == "2026-03-09"
    eur_project = round(2.3 / 0.92 * 1e6) + round(-0.23 / 0.92 * 1e6)  # the export's rate
    gesis = 334_800_000 // 31  # 310.00 EUR × 1.08, spread over March
    march = lines["2026-03-05"]
    assert round(march["cost"] * 1e6) == 1_250_000 + eur_project + gesis
    assert march["currency"] == "USD"
    assert march["unconverted"] == [{"source": "invoice:sfu", "currency": "CHF", "net": 2.0}]
    february = lines["2026-02-10"]  # sfu's February had a rate: 28.00 CHF × 1.13 over 28 days
    assert round(february["cost"] * 1e6) == 31_640_000 // 28 and "unconverted" not in february
    metrics = warehouse.query(
        schemas.sql("latest_cost"), {"currency": "USD", "today": date(2026, 3, 10)}
    )
    assert round(float(metrics[0]["net"]) * 1e6) == 1_250_000 + eur_project + gesis


def test_an_invoice_rate_must_be_a_positive_number(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("member,period,amount,currency,rate\nsfu,2026-03,62.00,CHF,-1\n")
    with pytest.raises(MemberCostsError, match=r"members.csv:2: rate '-1' must be a positive"):
        read_member_costs(path)
