"""The public dashboard, opened in a real headless browser (Debian's chromium) from a
loopback HTTP server, as a reader's browser opens it from the bucket."""

from __future__ import annotations

import functools
import itertools
import json
import random
import re
import shutil
import subprocess
import threading
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import need_tool
from hypothesis import given, settings
from hypothesis import strategies as st

from binderops import dashboard
from binderops.core.config import Settings, read
from binderops.deploys.deployer import DeploymentRow
from binderops.incidents.notifier import IncidentRow
from binderops.launches import archive
from binderops.launches.events import to_row
from binderops.local import billing_sample, samples
from binderops.local.samples import launch_event

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TODAY = datetime.now(UTC).date()
IDS = itertools.count()
CHARTS = [
    "launches-by-day",
    "provider-share",
    "top-day",
    "top-week",
    "top-month",
    "cost-by-day",
    "cost-per-launch",
    "deploys-by-week",
    "time-to-resolve",
]


def browser() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        need_tool("no headless browser: install Debian's chromium (`apt-get install chromium`)")
    return found


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def site(tmp_path, warehouse):
    """A month of launches, costs, deploys and incidents, published; the public folder
    served on 127.0.0.1."""
    from binderops.costs import export

    yesterday = TODAY - timedelta(days=1)
    now = datetime.now(UTC)
    events = samples.sample_weeks(yesterday, per_day=80)
    warehouse.load("launches", [to_row(e, f"w{n}", now, "x") for n, e in enumerate(events)])
    with warehouse.session() as con:
        billing_sample.load_rows(con, "billing", billing_sample.sample_rows(yesterday, days=10))
    export.export(
        warehouse, "billing", "UTC", export.Window(yesterday - timedelta(days=9), yesterday), []
    )
    finished = now - timedelta(days=2)
    warehouse.insert(
        "deployments",
        [
            DeploymentRow(
                "b1",
                "org/deploy",
                "a" * 40,
                "staging",
                "push",
                "d1",
                "success",
                "SUCCESS",
                finished - timedelta(minutes=30),
                finished - timedelta(minutes=25),
                300.0,
                "https://x/1",
                now,
            ),
            DeploymentRow(
                "b2",
                "org/deploy",
                "a" * 40,
                "production",
                "push",
                "d1",
                "success",
                "SUCCESS",
                finished - timedelta(minutes=20),
                finished,
                1200.0,
                "https://x/2",
                now,
            ),
            DeploymentRow(
                "b3",
                "org/deploy",
                "b" * 40,
                "production",
                "push",
                "d2",
                "failure",
                "FAILURE",
                finished,
                finished + timedelta(minutes=5),
                300.0,
                "https://x/3",
                now,
            ),
        ],
    )
    closed = finished + timedelta(minutes=42)
    opened = now - timedelta(hours=3)
    errors, stale = "Function error rate", "Launch data freshness"
    warehouse.insert(
        "incident_notifications",
        [
            IncidentRow("i1:open", "i1", "open", errors, "5xx", finished, None, "https://i/1", now),
            IncidentRow("i1:closed", "i1", "closed", errors, "5xx", finished, closed, "u", now),
            IncidentRow("i2:open", "i2", "open", stale, "silent", opened, None, "https://i/2", now),
        ],
    )
    settings = read(Settings, {"BINDEROPS_PUBLIC_DIR": str(tmp_path / "public")})
    archive.publish(warehouse, settings, {}, TODAY)
    dashboard.publish(warehouse, settings, TODAY)
    handler = functools.partial(Quiet, directory=str(tmp_path / "public"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield settings, f"http://127.0.0.1:{server.server_port}/dashboard/", yesterday
    server.shutdown()
    server.server_close()


def open_page(url: str, *extra: str) -> tuple[str, str]:
    """The page's DOM after its scripts ran (live.json fetched), and the browser's log."""
    result = subprocess.run(
        [
            browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--window-size=412,3000",
            *(extra or ("--dump-dom",)),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


class Tables(HTMLParser):
    """Each table's rows, by the chart it stands behind (``data-for``)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.svgs: set[str] = set()
        self.texts: dict[str, str] = {}
        self._table = self._row = self._cell = self._text_id = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg" and attrs.get("id"):
            self.svgs.add(attrs["id"])
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("data-for", "?"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif attrs.get("id"):
            self._text_id = attrs["id"]
            self.texts[self._text_id] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag in ("p", "ul"):
            self._text_id = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._text_id:
            self.texts[self._text_id] += data


def parse(dom: str) -> Tables:
    tables = Tables()
    tables.feed(dom)
    return tables


def test_every_chart_is_there_with_its_numbers_and_no_console_error(site, warehouse):
    settings, url, yesterday = site
    dom, log = open_page(url)
    assert not [line for line in log.splitlines() if "CONSOLE" in line], log
    page = parse(dom)
    assert set(CHARTS) <= page.svgs
    sections = ["launches", "providers", "top-day", "top-week", "top-month", "costs", "deploys"]
    assert {*sections, "incidents", "freshness", "live-chart"} <= set(page.tables)
    assert all(page.tables[name][1:] for name in sections)

    # The launches table's totals are the warehouse's, day by day.
    first = yesterday - timedelta(days=dashboard.DAYS - 1)
    stored = warehouse.query(
        "SELECT day, SUM(launches) AS n FROM launches_daily WHERE day BETWEEN @first AND @last "
        "GROUP BY day",
        {"first": first, "last": yesterday},
    )
    rows = page.tables["launches"][1:]
    assert {r[0]: int(r[-1].replace(",", "")) for r in rows if r[-1] != "0"} == {
        str(r["day"]): r["n"] for r in stored
    }
    # The week's top repository is the aggregate's.
    [top] = warehouse.query(
        "SELECT repo, SUM(launches) AS n FROM repo_launches_daily WHERE day > @since "
        "GROUP BY repo ORDER BY n DESC, repo LIMIT 1",
        {"since": yesterday - timedelta(days=7)},
    )
    assert page.tables["top-week"][1][1:] == [top["repo"], f"{top['n']:,}"]
    # Deploys: two production deploys in one week, one failed; lead time 30 min.
    [week] = page.tables["deploys"][1:]
    assert week[1:] == ["2", "1", "50.00", "30.00"]
    # Incidents: the closed one took 42 minutes; the open one is open.
    assert [page.tables["incidents"][-1][i] for i in (1, 3)] == ["Function error rate", "42.00"]
    assert "Launch success" in dom and "only for successful" in dom
    assert len(Path(settings.public_dir / "dashboard" / "index.html").read_bytes()) < 300_000


def test_the_live_panel_follows_live_json(site, warehouse):
    settings, url, _ = site
    dom, _ = open_page(url)
    before = parse(dom)
    # A quiet hour says so, in words, instead of an empty chart with a lone "1".
    assert before.texts["live-status"].startswith("No launches in the last hour")
    assert "No launches in the last hour." in dom and before.tables["live-chart"][1:] == [
        ["no launches"]
    ]
    assert "Launch data freshness, open since" in before.texts["live-incidents"]
    assert "production bbbbbbbbbbbb failure" in before.texts["live-deploys"]

    now = datetime.now(UTC)
    rng = random.Random(4)
    fresh = [
        to_row(launch_event(rng, now - timedelta(minutes=n % 50)), f"live{n}", now, "x")
        for n in range(37)
    ]
    warehouse.load("launches", fresh)
    dashboard.write_live(warehouse, settings, now)
    dom, _ = open_page(url)
    after = parse(dom)
    assert after.texts["live-status"].startswith("37 launches in the last hour")
    live_rows = after.tables["live-chart"][1:]
    assert sum(int(r[1]) for r in live_rows) == 37


def test_a_phone_sized_screenshot_is_kept(site):
    _, url, _ = site
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard-phone.png"
    shot.unlink(missing_ok=True)
    open_page(url, f"--screenshot={shot}", "--hide-scrollbars")
    assert shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_number_of_origins_can_grow_the_page_past_its_budget(tmp_path, warehouse):
    """Origins are what launch events say: 300 crafted ones, each 255 characters long, are
    drawn as the seven largest members and "other members", and every launch still counts."""
    yesterday = TODAY - timedelta(days=1)
    now = datetime.now(UTC)
    rows = []
    for n in range(300):
        origin = f"crafted-{n:03d}-" + "x" * 243
        for k in range(1 + n % 5):
            event = {
                "timestamp": f"{yesterday}T00:{(n + k) % 60:02d}:00Z",
                "schema": "binderhub.jupyter.org/launch",
                "version": 3,
                "provider": "GitHub",
                "spec": f"owner/repo{n}/HEAD",
                "status": "success",
                "origin": origin,
            }
            rows.append(to_row(event, f"c{n}-{k}", now, "x"))
    warehouse.load("launches", rows)
    settings = read(Settings, {"BINDEROPS_PUBLIC_DIR": str(tmp_path / "public")})
    page = Path(dashboard.publish(warehouse, settings, TODAY)).read_text()
    assert len(page.encode()) < 300_000
    header = re.search(r"<table data-for='launches'>.*?<thead>(.*?)</thead>", page, re.S)
    columns = re.findall(r"<th scope='col'>([^<]*)</th>", header.group(1))
    assert len(columns) == 1 + dashboard.MAX_MEMBERS + 1 + 1  # day, members, other, total
    assert columns[-2:] == [dashboard.OTHER, "total"]
    assert f"{len(rows):,} launches over 30 days across 300 members" in page
    live = json.loads(dashboard.live(warehouse, datetime.combine(yesterday, time(1), UTC)))
    assert {r["origin"] for r in live["launches"]} <= {*columns[1:-1]}
    assert sum(r["launches"] for r in live["launches"]) == len(rows)


@settings(max_examples=2000, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1e9))
def test_chart_scales_fit_every_magnitude(value):
    """From cost per launch in fractions of a cent to a billion launches: the tallest bar
    fills at least half the plot, and the ticks read as the distinct numbers they are."""
    from binderops.dashboard.charts import nice_max, tick

    top = nice_max(value)
    assert value <= top * (1 + 1e-9) and top <= 2 * value * (1 + 1e-9)
    assert float(f"{top:.3g}") == top  # 1, 2, 2.5 or 5 times a power of ten
    labels = [tick(top * step / 4, top) for step in range(5)]
    assert len(set(labels)) == 5, labels
    for step, label in enumerate(labels):
        assert abs(float(label.replace(",", "")) - top * step / 4) <= top * 1e-9, labels


@settings(max_examples=2000, deadline=None)
@given(st.integers(min_value=0, max_value=10**9))
def test_count_axes_step_in_whole_numbers(value):
    """Launches and deploys: one deploy in a week draws ticks 0 to 4, never 0.50 and 1.50;
    the tallest bar still fills at least a fifth of the plot (the first steps are whole)."""
    from binderops.dashboard.charts import tick, whole_max

    top = whole_max(value)
    assert top >= value and top % 4 == 0 and top >= 4
    assert top <= max(4, 2.5 * value)
    labels = [tick(top * step / 4, top) for step in range(5)]
    assert all("." not in label for label in labels), labels
    assert len(set(labels)) == 5


def test_one_deploy_a_week_reads_in_whole_deploys():
    from binderops.dashboard.charts import bars

    svg = bars("d", "Deploys", ["w1"], {"ok": [1]}, "deploys", "week", "", whole=True)
    ticks = re.findall(r"class='tick' text-anchor='end'>([^<]+)<", svg)
    assert ticks == ["0", "1", "2", "3", "4"]


def test_a_cost_per_launch_chart_draws_bars_taller_than_a_sliver():
    from binderops.dashboard.charts import bars

    svg = bars("cpl", "Cost per launch", ["a", "b"], {"USD": [0.012, 0.04]}, "USD", "day", "")
    heights = [float(h) for h in re.findall(r"height='([0-9.]+)' fill=", svg)]
    plot = 260 - 12 - 44
    assert max(heights) >= plot / 2 and "0.0125" in svg
