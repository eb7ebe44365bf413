"""The public dashboard, opened in a real headless browser (Debian's chromium, driven by
Playwright) from a loopback HTTP server, as a reader's browser opens it from the bucket: on a
laptop (1280 px) and a phone (390 px), in light and dark mode. Screenshots of each are kept in
tests/artifacts/ for a person to look at."""

from __future__ import annotations

import functools
import json
import random
import re
import threading
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binderops import dashboard
from binderops.core.config import Settings, read
from binderops.deploys.deployer import DeploymentRow
from binderops.federation.rounds import ProbeRow
from binderops.incidents.notifier import IncidentRow
from binderops.launches import archive
from binderops.launches.events import to_row
from binderops.local import billing_sample, samples
from binderops.local.samples import launch_event

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TODAY = datetime.now(UTC).date()
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
LONG_POLICY = "Launch events dead-letter queue holds undelivered messages for over ten minutes"
WIDTHS = {"laptop": 1280, "phone": 390}


def probe(member: str, minute: datetime, up: bool, success: int, failure: int) -> ProbeRow:
    return ProbeRow(
        f"{member}:{minute:%Y%m%d%H%M}",
        minute,
        member,
        up,
        200 if up else 503,
        "" if up else "hub",
        120.0,
        10,
        100,
        "",
        False,
        None,
        None,
        success,
        failure,
        "",
        up,
        1,
        minute,
        minute,
        None,
        None,
        minute,
    )


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def site(tmp_path, warehouse):
    """Two months of launches, costs since the start of the last complete month, deploys,
    incidents (two with one long name) and two members' probes, published; the public folder
    served on 127.0.0.1."""
    from binderops.costs import export

    yesterday = TODAY - timedelta(days=1)
    now = datetime.now(UTC)
    events = samples.sample_weeks(yesterday, days=65, per_day=80)
    warehouse.load("launches", [to_row(e, f"w{n}", now, "x") for n, e in enumerate(events)])
    month = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
    days = (yesterday - month).days + 1
    with warehouse.session() as con:
        billing_sample.load_rows(con, "billing", billing_sample.sample_rows(yesterday, days=days))
    export.export(warehouse, "billing", "UTC", export.Window(month, yesterday), [])
    # Probes in yesterday's last two hours: inside the 30 complete days the page counts.
    hour = datetime.combine(TODAY, time(0), UTC)
    warehouse.insert(
        "member_probes",
        [
            probe(member, hour - timedelta(minutes=n), member == "gke" or n % 10 > 0, 3, n % 2)
            for member in ("gke", "gesis")
            for n in range(1, 121)
        ],
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
            *(
                IncidentRow(
                    f"l{n}:closed",
                    f"l{n}",
                    "closed",
                    LONG_POLICY,
                    "queue",
                    finished - timedelta(days=n),
                    finished - timedelta(days=n) + timedelta(minutes=minutes),
                    "u",
                    now,
                )
                for n, minutes in ((1, 65), (2, 180))
            ),
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


class Tables(HTMLParser):
    """Each table's rows, by the chart it stands behind (``data-for``)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.svgs: set[str] = set()
        self._table = self._row = self._cell = None

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

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(dom: str) -> Tables:
    tables = Tables()
    tables.feed(dom)
    return tables


MEASURE = (Path(__file__).parent / "fixtures" / "dashboard_measure.js").read_text()


LIVE_DRAWN = "!document.getElementById('live-status').textContent.startsWith('Loading')"


def open_page(
    chromium,
    url: str,
    width: int = 1280,
    scheme: str = "light",
    clock: bool = False,
    ready: str | None = LIVE_DRAWN,
):
    """The page at ``width`` CSS px in ``scheme`` once ``ready`` holds (the dashboard's live
    panel drawn), and the console's errors (console messages and uncaught exceptions) as
    they come."""
    context = chromium.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, device_scale_factor=1
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    if clock:
        page.clock.install()
    page.goto(url)
    if ready:
        page.wait_for_function(ready)
    return page, errors


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", WIDTHS)
def test_the_page_reads_on_a_laptop_and_a_phone(site, chromium, device, scheme):
    """No text under 11 px, nothing wider than the screen, every chart titled and in its
    unit, AA contrast in light and dark mode, no console error; a screenshot is kept."""
    _, url, _ = site
    width = WIDTHS[device]
    page, errors = open_page(chromium, url, width, scheme)
    try:
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        found = page.evaluate(MEASURE)
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"dashboard-{width}-{scheme}.png"
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = false; })")
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.context.close()
    # The page follows the reader's setting: dark mode is dark.
    assert (found["page"] < 0.05) if scheme == "dark" else (found["page"] > 0.9), found["page"]
    assert found["small"] == [], found["small"]
    assert found["wide"] == [] and found["scrollWidth"] <= width, found["wide"]
    assert found["faint"] == [], found["faint"]
    charts = {c["id"]: c for c in found["charts"]}
    assert set(CHARTS) <= set(charts)
    for chart in charts.values():
        assert chart["title"].strip() and chart["unit"], chart
        assert chart["unit"] in chart["text"], (
            chart
        )  # the unit is on the chart, not only in a tooltip
    assert not errors, errors
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_headline_row_answers_the_first_questions(site, chromium, warehouse):
    _, url, yesterday = site
    page, errors = open_page(chromium, url, 1280)
    try:
        tiles = page.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('.tiles > div')].map(
                (d) => [d.id.slice(2), {value: d.querySelector('.value').textContent,
                  band: (d.querySelector('.band') || {}).textContent || '',
                  detail: d.querySelector('.detail').textContent}]))"""
        )
        header = page.text_content("header .sub")
    finally:
        page.context.close()
    assert not errors, errors
    generated = re.search(r"at (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", header).group(1)
    assert list(tiles) == [
        "launches-24h",
        "launches-30d",
        "uptime",
        "success",
        "cost-per-launch",
        "deploys",
        "lead-time",
        "failure-rate",
        "restore",
    ]

    def launched(first, last) -> int:
        [row] = warehouse.query(
            "SELECT SUM(launches) AS n FROM launches_daily WHERE day BETWEEN @first AND @last",
            {"first": first, "last": last},
        )
        return int(row["n"] or 0)

    # The last 24 h end when the page was made (its header says when, to the minute).
    made = datetime.strptime(generated, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    [day] = warehouse.query(
        "SELECT COUNT(DISTINCT event_id) AS n FROM raw.launches WHERE timestamp >= @since "
        "AND timestamp < @now",
        {"since": made - timedelta(hours=24), "now": made},
    )
    assert tiles["launches-24h"]["value"] == f"{day['n']:,}"
    assert tiles["launches-24h"]["detail"].startswith(f"to {made:%H:%M} UTC; ")
    month = launched(yesterday - timedelta(days=29), yesterday)
    before = launched(yesterday - timedelta(days=59), yesterday - timedelta(days=30))
    assert tiles["launches-30d"]["value"] == f"{month:,}"
    change = round(100 * (month - before) / before)
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    assert tiles["launches-30d"]["detail"].startswith(
        f"to {yesterday:%b %d}; {sign}{abs(change)}% on the 30 days before"
    )
    # 240 probes in the last two hours: gesis missed one in ten.
    assert tiles["uptime"]["value"] == f"{100 * (240 - 12) / 240:.2f}%"
    assert tiles["success"]["value"] == f"{100 * 720 / (720 + 120):.1f}%"
    # Cost per launch: the last complete month's net cost over its launches, in USD.
    first = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
    last = TODAY.replace(day=1) - timedelta(days=1)
    [cost] = warehouse.query(
        "SELECT SUM(reporting_net_micros) / 1e6 AS net FROM cloud_costs_daily "
        "WHERE day BETWEEN @first AND @last",
        {"first": first, "last": last},
    )
    expected = cost["net"] / launched(first, last)
    assert tiles["cost-per-launch"]["value"] == f"{expected:.4f} USD"
    assert "not included" in tiles["cost-per-launch"]["detail"]
    # The DORA four over 12 weeks: 2 production deploys, one failed; a 30-minute lead time;
    # incidents resolved in 42 min, 65 min and 3 h, and one still open.
    assert tiles["deploys"] == {"value": "0.2", "band": "low", "detail": "2 in the last 12 weeks"}
    assert (tiles["lead-time"]["value"], tiles["lead-time"]["band"]) == ("30 min", "elite")
    assert (tiles["failure-rate"]["value"], tiles["failure-rate"]["band"]) == ("50%", "low")
    mean = (42 + 65 + 180) * 60 / 3
    assert (
        tiles["restore"]["value"] == f"{mean / 3600:.1f} h" and tiles["restore"]["band"] == "high"
    )
    assert tiles["restore"]["detail"] == "3 incidents resolved, 1 still open"


def test_every_chart_is_there_with_its_numbers_and_its_units(site, chromium, warehouse):
    _, url, yesterday = site
    page, errors = open_page(chromium, url, 1280)
    try:
        dom = page.content()
        labels = page.eval_on_selector_all(
            "#time-to-resolve text.label", "(ts) => ts.map((t) => t.textContent)"
        )
        titles = page.eval_on_selector_all(
            "#time-to-resolve g > title", "(ts) => ts.map((t) => t.textContent)"
        )
    finally:
        page.context.close()
    assert not errors, errors
    tables = parse(dom)
    assert set(CHARTS) <= tables.svgs
    sections = ["launches", "providers", "top-day", "top-week", "top-month", "costs", "deploys"]
    assert {*sections, "incidents", "freshness", "live-chart"} <= set(tables.tables)
    assert all(tables.tables[name][1:] for name in sections)

    # The launches table's totals are the warehouse's, day by day.
    first = yesterday - timedelta(days=dashboard.DAYS - 1)
    stored = warehouse.query(
        "SELECT day, SUM(launches) AS n FROM launches_daily WHERE day BETWEEN @first AND @last "
        "GROUP BY day",
        {"first": first, "last": yesterday},
    )
    rows = tables.tables["launches"][1:]
    assert {r[0]: int(r[-1].replace(",", "")) for r in rows if r[-1] != "0"} == {
        str(r["day"]): r["n"] for r in stored
    }
    # The week's top repository is the aggregate's.
    [top] = warehouse.query(
        "SELECT repo, SUM(launches) AS n FROM repo_launches_daily WHERE day > @since "
        "GROUP BY repo ORDER BY n DESC, repo LIMIT 1",
        {"since": yesterday - timedelta(days=7)},
    )
    assert tables.tables["top-week"][1][1:] == [top["repo"], f"{top['n']:,}"]
    # Deploys: two production deploys in one week, one failed; lead time 30 min. Every week
    # of the twelve is there, those without a deploy too.
    weeks = tables.tables["deploys"][1:]
    assert len(weeks) in (12, 13)  # the weeks that today's twelve-week window touches
    assert [week[1:] for week in weeks if week[1] != "0"] == [["2", "1", "50%", "30 min"]]
    assert {tuple(week[1:]) for week in weeks if week[1] == "0"} == {("0", "0", "—", "—")}
    # Shares carry their %, durations their unit.
    assert all(row[-1].endswith("%") for row in tables.tables["providers"][1:])
    incidents = {row[1]: row[3] for row in tables.tables["incidents"][1:]}
    assert incidents["Function error rate"] == "42 min"
    # Two incidents of one long name: drawn distinct, each whole in its bar's title.
    drawn = [label for label in labels if label.startswith(LONG_POLICY[:20])]
    assert len(drawn) == 2 and len(set(drawn)) == 2
    assert sum(title.startswith(LONG_POLICY + ", ") for title in titles) == 2
    assert "Launch success" in dom and "only for successful" not in dom  # probes measured it


def test_the_live_panel_follows_live_json_without_a_reload(site, chromium, warehouse):
    settings, url, _ = site
    page, errors = open_page(chromium, url, 390, clock=True)
    try:
        status = page.text_content("#live-status")
        # A quiet hour says so, in words, instead of an empty chart with a lone "1".
        assert status.startswith("No launches in the last hour")
        assert page.text_content("#live-chart") == "No launches in the last hour."
        assert "Launch data freshness, open since" in page.text_content("#live-incidents")
        assert "production bbbbbbbbbbbb failure" in page.text_content("#live-deploys")
        page.evaluate("window.loadedOnce = true")

        now = datetime.now(UTC)
        rng = random.Random(4)
        fresh = [
            to_row(launch_event(rng, now - timedelta(minutes=n % 50)), f"live{n}", now, "x")
            for n in range(37)
        ]
        warehouse.load("launches", fresh)
        dashboard.write_live(warehouse, settings, now)
        page.clock.fast_forward(61_000)  # the page fetches live.json each minute
        page.wait_for_function(
            "document.getElementById('live-status').textContent.startsWith('37 launches')"
        )
        assert page.evaluate("window.loadedOnce") is True  # the same page: no reload
        rows = page.eval_on_selector_all(
            "#live-table tbody tr", "(rs) => rs.map((r) => r.lastChild.textContent)"
        )
        assert sum(int(n) for n in rows) == 37
        assert page.get_attribute("#live-chart svg", "data-unit") == "launches a minute"
        ticks = page.eval_on_selector_all(
            "#live-chart svg text.tick", "(ts) => ts.map((t) => t.textContent)"
        )
        assert ticks and all(re.fullmatch(r"\d\d:(00|15|30|45)", t) for t in ticks), ticks
    finally:
        page.context.close()
    assert not errors, errors


def test_every_table_is_reached_by_the_keyboard(site, chromium):
    _, url, _ = site
    page, _ = open_page(chromium, url, 390)
    try:
        wanted = page.evaluate("document.querySelectorAll('summary, table[tabindex]').length")
        reached = set()
        for _ in range(4 * wanted):
            page.keyboard.press("Tab")
            reached.add(
                page.evaluate(
                    "(() => { const e = document.activeElement;"
                    " return e.tagName + ':' + (e.dataset.for || e.id || e.textContent.slice(0, 60)); })()"
                )
            )
        summaries = page.eval_on_selector_all(
            "summary", "(ss) => ss.map((s) => 'SUMMARY:' + s.textContent.slice(0, 60))"
        )
        # A summary opens its table with the keyboard, and the table then takes the focus.
        page.focus("#deploys summary")
        page.keyboard.press("Enter")
        assert page.is_visible("table[data-for='deploys']")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.dataset.for")
    finally:
        page.context.close()
    assert set(summaries) <= reached, set(summaries) - reached
    assert "TABLE:live-chart" in reached
    assert focused == "deploys"


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
    header = re.search(r"<table data-for='launches'[^>]*>.*?<thead>(.*?)</thead>", page, re.S)
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
    from binderops.dashboard.charts import bars, count

    svg = bars("d", "Deploys", ["w1"], {"ok": [1]}, count("deploys"), "week", "", whole=True)
    ticks = re.findall(r"class='tick' text-anchor='end'>([^<]+)<", svg)
    assert ticks == ["0", "1", "2", "3", "4"]


def test_a_cost_per_launch_chart_draws_bars_taller_than_a_sliver():
    from binderops.dashboard.charts import BOTTOM, HEIGHT, TOP, bars, money

    svg = bars(
        "cpl", "Cost per launch", ["a", "b"], {"USD": [0.012, 0.04]}, money("USD"), "day", ""
    )
    heights = [float(h) for h in re.findall(r"height='([0-9.]+)' class=", svg)]
    plot = HEIGHT - TOP - BOTTOM
    assert max(heights) >= plot / 2 and "0.0125" in svg


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=120), max_size=12))
def test_long_names_are_shortened_in_the_middle_and_stay_distinct(labels):
    """Repositories and incidents share long prefixes ("binder-examples/…", one alert policy
    firing twice): what the chart draws keeps each label's start and end, stays short enough
    to fit a phone, and never draws two the same."""
    from binderops.dashboard.charts import LABEL_CHARS, shortened

    drawn = shortened(labels)
    assert len(set(drawn)) == len(drawn) == len(labels)
    keep = LABEL_CHARS - 1
    for label, shown in zip(labels, drawn):
        if len(label) <= LABEL_CHARS:
            assert shown == label or shown.startswith(label + " (")
        else:
            assert shown.startswith(label[: keep - keep // 2] + "…" + label[-(keep // 2) :])
            assert len(shown) <= LABEL_CHARS + 5


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        ("deploys", 10.0, "elite"),
        ("deploys", 7.0, "elite"),
        ("deploys", 1.0, "high"),
        ("deploys", 0.25, "medium"),
        ("deploys", 0.2, "low"),
        ("lead", 1800, "elite"),
        ("lead", 86400, "elite"),
        ("lead", 86401, "high"),
        ("lead", 40 * 86400, "low"),
        ("failure", 0.0, "elite"),
        ("failure", 0.05, "elite"),
        ("failure", 0.12, "medium"),
        ("failure", 0.5, "low"),
        ("restore", 3599, "elite"),
        ("restore", 5 * 3600, "high"),
        ("restore", 3 * 86400, "medium"),
        ("restore", 8 * 86400, "low"),
    ],
)
def test_each_delivery_figure_falls_in_its_dora_band(metric, value, expected):
    from binderops.dashboard.headline import band

    assert band(metric, value) == expected


def test_a_month_with_missing_cost_days_has_no_cost_per_launch():
    """A figure from part of a month would read as the month's: it is "—", and says why."""
    from datetime import date

    from binderops.dashboard.headline import NONE, cost_per_launch

    november = [date(2026, 11, d) for d in range(1, 31)]
    gcp = [{"day": d, "source": "gcp", "net": 10.0, "unconverted": None} for d in november]
    assert cost_per_launch(gcp, 1000, november[0], "USD").value == "0.3000 USD"
    ovh = [{**r, "source": "ovh"} for r in gcp[1:]]
    tile = cost_per_launch(gcp + ovh, 1000, november[0], "USD")
    assert tile.value == NONE and tile.detail == "costs incomplete: ovh (29 of 30 days)"
    euros = [{**r, "source": "ovh", "net": None, "unconverted": None} for r in gcp]
    euros[3]["unconverted"] = "12.00 EUR"
    tile = cost_per_launch(gcp + euros, 1000, november[0], "USD")
    assert tile.value == "0.3000 USD"
    assert tile.detail.endswith(
        "not included, for want of a rate to USD: 12.00 EUR (ovh, 2026-11-04)"
    )
