"""The federation register: read strictly, recorded by the cost export, and read back as
cost per launch per member, member names on the dashboard and in freshness findings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from binderops import dashboard
from binderops.core.config import Settings, read
from binderops.core.members import MembersError, read_members
from binderops.costs import export as costs
from binderops.costs.settings import CostSettings
from binderops.launches import freshness
from binderops.launches.events import to_row
from binderops.launches.settings import LaunchSettings
from binderops.local import billing_sample
from binderops.local.billing_sample import SERVICES, export_row

TABLE = "gcp_billing_export_v1_000000_000000_000000"
NOW = datetime(2026, 4, 2, 12, tzinfo=UTC)
REGISTER = """name,origin,url,projects,invoice,currency
gke,gke.mybinder.org,https://gke.mybinder.org,binder-prod binder-staging,,USD
gesis,gesis.mybinder.org,https://notebooks.gesis.org/binder/,,gesis,EUR
"""


def launches(warehouse, day: date, origin: str, n: int, start: int = 0) -> None:
    when = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
    event = {"timestamp": when.isoformat(), "version": 6, "provider": "GitHub", "spec": "a/b/HEAD"}
    rows = [
        to_row({**event, "origin": origin}, f"{origin}-{day}-{k}", NOW, "")
        for k in range(start, start + n)
    ]
    warehouse.insert("launches", rows)


@pytest.fixture
def federation(tmp_path, warehouse):
    """March 2026: gke's two projects cost 3.00 USD a day; gesis invoices 310.00 EUR at 1.08;
    gke launches 100 a day, gesis 10, and an unregistered origin 5."""
    register = tmp_path / "members.csv"
    register.write_text(REGISTER)
    invoices = tmp_path / "invoices.csv"
    invoices.write_text("member,period,amount,currency,rate\ngesis,2026-03,310.00,EUR,1.08\n")
    rows = []
    for d in range(1, 32):
        day = date(2026, 3, d)
        rows.append(export_row(day, 1, SERVICES[0], "binder-prod", 2.0, "USD", []))
        rows.append(export_row(day, 2, SERVICES[1], "binder-staging", 1.0, "USD", []))
        launches(warehouse, day, "gke.mybinder.org", 100)
        launches(warehouse, day, "gesis.mybinder.org", 10)
        launches(warehouse, day, "stranger.example.org", 5)
    with warehouse.session() as con:
        billing_sample.load_rows(con, TABLE, rows)
    settings = replace(read(CostSettings, {}), billing_table=TABLE, member_costs=invoices)
    shared = read(
        Settings,
        {"BINDEROPS_PUBLIC_DIR": str(tmp_path / "public"), "BINDEROPS_MEMBERS": str(register)},
    )
    costs.run(warehouse, settings, shared, {"start": "2026-03-01", "end": "2026-03-31"}, NOW)
    return warehouse, shared


def test_cost_per_launch_per_member_per_day_and_month(federation):
    warehouse, _ = federation
    day = {
        r["member"]: r
        for r in warehouse.query("SELECT * FROM member_costs_daily WHERE day = DATE '2026-03-10'")
    }
    assert {m: (round(r["cost"], 6), r["launches"]) for m, r in day.items()} == {
        "gke": (3.0, 100),
        "gesis": (10.8, 10),  # 310.00 EUR × 1.08 over 31 days
    }
    assert round(day["gke"]["cost_per_launch"], 6) == 0.03
    assert round(day["gesis"]["cost_per_launch"], 6) == 1.08
    month = {
        r["member"]: r
        for r in warehouse.query(
            "SELECT * FROM member_costs_monthly WHERE month = DATE '2026-03-01'"
        )
    }
    assert round(month["gke"]["cost"], 6) == 93.0 and month["gke"]["launches"] == 3100
    assert round(month["gesis"]["cost"], 6) == 334.8 and month["gesis"]["launches"] == 310
    assert month["gesis"]["currency"] == "USD" and month["gesis"]["unconverted"] == 0


def test_the_dashboard_names_members_and_counts_the_unregistered(federation):
    warehouse, _ = federation
    html = dashboard.build(warehouse, date(2026, 4, 2), "USD").decode()
    assert "Cost per launch per member" in html
    start = html.index("Cost, launches and cost per launch per member, March 2026, in USD")
    table = html[start : html.index("</table>", start)]
    gesis = "<tr><td>gesis</td><td>334.80 USD</td><td>310</td><td>1.08 USD</td><td></td></tr>"
    gke = "<tr><td>gke</td><td>93.00 USD</td><td>3,100</td><td>0.0300 USD</td><td></td></tr>"
    assert gesis in table and gke in table
    members_table = html[html.index("Launches per day and member") :]
    assert "unregistered" in members_table and "stranger.example.org" not in html


def test_freshness_names_the_member_of_an_origin(federation):
    warehouse, shared = federation
    launches(warehouse, date(2026, 4, 1), "gke.mybinder.org", 100)  # gesis went silent
    result = freshness.run(
        warehouse,
        read(LaunchSettings, {}),
        day=date(2026, 4, 1),
        members=read_members(shared.members),
    )
    described = [f.describe(date(2026, 4, 1)) for f in result.findings]
    assert "gesis (gesis.mybinder.org) recorded no launches on 2026-04-01" in " ".join(described)


def test_the_cost_export_replaces_the_register_whole(federation, tmp_path):
    warehouse, shared = federation
    Path(shared.members).write_text(
        REGISTER.splitlines()[0] + "\n" + REGISTER.splitlines()[1] + "\n"
    )
    settings = replace(read(CostSettings, {}), billing_table=TABLE)
    costs.run(warehouse, settings, shared, {"start": "2026-03-01", "end": "2026-03-02"}, NOW)
    assert [r["name"] for r in warehouse.query("SELECT name FROM federation_members")] == ["gke"]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("gke,gke.mybinder.org,https://gke.mybinder.org,,,USD", "name 'gke' twice"),
        ("x,gke.mybinder.org,https://x.org,,,USD", "origin 'gke.mybinder.org' twice"),
        ("x,x.org,ftp://x.org,,,USD", "url 'ftp://x.org' must be"),
        (
            "x,x.org,https://x.org,Not_A_Project,,USD",
            "'Not_A_Project' is not a Google Cloud project",
        ),
        ("x,x.org,https://x.org,,,euro", "currency 'euro'"),
        ("unregistered,x.org,https://x.org,,,USD", "name 'unregistered'"),
        ("x,x.org,https://x.org,,USD", "expected 6 fields"),
    ],
)
def test_a_bad_register_line_is_named(tmp_path, line, says):
    path = tmp_path / "members.csv"
    path.write_text(REGISTER.splitlines()[0] + "\n" + REGISTER.splitlines()[1] + "\n" + line + "\n")
    with pytest.raises(MembersError, match="members.csv:3: .*" + says.replace("(", r"\(")):
        read_members(path)


def test_the_sample_register_names_every_origin_the_sample_stack_launches_from():
    from binderops.local.samples import ORIGINS
    from binderops.local.services import SAMPLE_MEMBERS

    assert sorted(m.origin for m in read_members(SAMPLE_MEMBERS)) == sorted(ORIGINS)
    assert json.dumps([m.name for m in read_members(SAMPLE_MEMBERS)])
