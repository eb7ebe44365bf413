"""``binderops run``: the whole launch-analytics flow on this machine.

Pub/Sub emulator → push subscription → functions-framework serving ``ingest_launch`` →
DuckDB. Without the emulator, CloudEvents are posted straight to the function.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..clients.pubsub import post_cloudevent
from ..core import config
from ..core.config import Settings
from ..costs.settings import CostSettings
from ..deploys.settings import DeploySettings
from ..incidents.settings import IncidentSettings
from ..launches.settings import LaunchSettings
from ..warehouse import Warehouse, schemas
from ..warehouse.duckdb import DuckDBWarehouse
from . import Mistake, samples, send, services
from .tables import format_rows
from .warehouses import existing_warehouse

WAIT_SECONDS = 180
# The walk-through's own deploy and incident: the same in every run, so re-running repeats none.
SAMPLE_SHA = "6f7dff764fb64ffaac3799ec7f9010387336b82c"
SAMPLE_DELIVERY = "5a3c1e2d-7b4f-4c6a-9e8d-0f1b2c3d4e5f"
SAMPLE_INCIDENT = "0.local-sample"
SILENT_SAMPLE_ORIGIN = "ovh.mybinder.org"  # the member the sample weeks fall silent on


def _accounted(warehouse: Warehouse, event_ids: list[str]) -> int:
    ids = ", ".join("'" + i.replace("'", "") + "'" for i in event_ids)
    rows = warehouse.query(schemas.sql_in("local/accounted", warehouse.names, ids=ids))
    warehouse.close()  # let the function have the file back
    return rows[0]["n"]


def _summary(warehouse: Warehouse) -> str:
    totals = warehouse.query(schemas.sql_in("local/totals", warehouse.names))[0]
    providers = warehouse.query(schemas.sql("local/launches_by_provider"))
    origins = warehouse.query(schemas.sql("local/launches_by_origin"))
    warehouse.close()
    return "\n\n".join(
        [
            f"warehouse: {warehouse.url}\nlaunches stored: {totals['launches']}   rejected "
            f"(raw.launch_errors): {totals['rejected']}",
            format_rows(providers, "table"),
            format_rows(origins, "table"),
        ]
    )


def _command() -> str:
    """How the user can call ``binderops`` from here: plain if on PATH, else the venv's path."""
    installed = Path(sys.executable).parent / "binderops"
    if shutil.which("binderops") == str(installed):
        return "binderops"
    return os.path.relpath(installed) if installed.exists() else "binderops"


def _wait_for(what: str, check, timeout: float, log_path: Path):
    """Poll ``check`` until it returns something true; RuntimeError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout:.0f} s; see {log_path}")
        time.sleep(0.3)
    return value


def _export_costs(
    settings: Settings, warehouse: Warehouse, env: dict, logs: Path, emulator, running: list
) -> None:
    """The daily cost export, fired as Cloud Scheduler would: a tick on a topic pushed into
    ``export_costs``. Runs over a generated billing export (loaded once into DuckDB)."""
    from .billing_sample import load_rows, sample_rows

    costs = config.read(CostSettings)
    if isinstance(warehouse, DuckDBWarehouse):
        with warehouse.session() as con:
            exists = con.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?",
                [costs.billing_table],
            ).fetchall()[0][0]
            if not exists:
                load_rows(con, costs.billing_table, sample_rows(datetime.now(UTC).date()))
        warehouse.close()
    published = Path(settings.public_dir) / "cloud-costs.jsonl"
    cost_env = {
        **env,
        "BINDEROPS_BILLING_TABLE": costs.billing_table,
        "BINDEROPS_COST_TIMEZONE": costs.cost_timezone,
        "BINDEROPS_PUBLIC_DIR": str(Path(settings.public_dir).resolve()),
    }
    # The sample stack's own invoices, passed explicitly: nothing else reads samples/.
    invoices = costs.member_costs or services.SAMPLE_MEMBER_COSTS
    if invoices.is_file():  # a wheel carries no samples
        cost_env["BINDEROPS_MEMBER_COSTS"] = str(invoices.resolve())
    if not _tick(
        settings, "export_costs", "cost-export-ticks", cost_env, published, logs, emulator, running
    ):
        return
    rows = warehouse.query(schemas.sql("local/recent_costs"))
    warehouse.close()
    print(f"\nexport_costs (fired by a scheduler tick) published {published}; the last days:\n")
    print(format_rows(rows, "table"))


def _tick(
    settings: Settings,
    target: str,
    topic: str,
    env: dict,
    published: Path,
    logs: Path,
    emulator,
    running: list,
    then=None,
) -> bool:
    """Fire ``target`` as Cloud Scheduler would (a tick on ``topic`` pushed into it) and wait
    until it rewrites ``published`` (and ``then()`` holds, if given); stop it afterwards.
    False (and why) if it did not."""
    before = published.stat().st_mtime_ns if published.exists() else 0
    function = services.start_function(target, env, logs, registry=running)
    try:
        if emulator:
            wiring = services.PubSubWiring(settings.project, topic, function.url)
            wiring.create(emulator.url)
            wiring.publish([(b"{}", {})])
        else:
            post_cloudevent(function.url, b"{}", {}, settings.project, topic)
        _wait_for(
            f"{target} publishing",
            lambda: published.exists() and published.stat().st_mtime_ns != before,
            120,
            function.log_path,
        )
        if then is not None:
            _wait_for(f"{target} finishing", then, 60, function.log_path)
        return True
    except RuntimeError as e:
        print(e)
        return False
    finally:
        function.stop()


def _load_sample_weeks(warehouse: Warehouse, last) -> int:
    """Five weeks of launches ending ``last`` (one member silent that day), loaded once: the
    dashboard then has a month to draw, the freshness check a week to compare with."""
    from ..launches.events import to_row

    events = samples.sample_weeks(last, silent=SILENT_SAMPLE_ORIGIN)
    now = datetime.now(UTC)
    rows = [
        to_row(e, f"sample-weeks:{last}:{n}", now, "mybinder.org") for n, e in enumerate(events)
    ]
    added = warehouse.load("launches", rows)
    warehouse.close()
    return added


def _publish_archive(
    settings: Settings,
    warehouse: Warehouse,
    env: dict,
    logs: Path,
    emulator,
    running: list,
    alerts: dict,
) -> dict:
    """The daily publish, fired by a tick like the cost export: the archive, the dashboard
    and the freshness check, whose finding (a silent member) becomes an incident report
    through notify_incident_http. Then ``usage_badge``, the public folder on loopback and a
    live.json rewritten every minute. Returns what stack.json keeps."""
    from ..dashboard import write_live

    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    added = _load_sample_weeks(warehouse, yesterday)
    if added:
        print(f"\nloaded {added} sample launches over the five weeks to {yesterday}")
    public = Path(settings.public_dir).resolve()
    archive_env = {
        **env,
        "BINDEROPS_PUBLIC_DIR": str(public),
        "BINDEROPS_FRESHNESS_ALERT_URL": f"{alerts['notify_incident_http']}?token={alerts['alert_token']}",
    }
    incident = f"freshness-{yesterday}-silent_origin-{SILENT_SAMPLE_ORIGIN}"

    def reported():
        rows = warehouse.query(schemas.sql("local/incident"), {"id": incident})
        warehouse.close()
        return rows

    page = public / "dashboard" / "index.html"
    if _tick(
        settings,
        "publish_archive",
        "archive-ticks",
        archive_env,
        page,
        logs,
        emulator,
        running,
        reported,
    ):
        days = sorted(p.name for p in public.glob("events-*.jsonl"))
        print(
            f"\npublish_archive (fired by a scheduler tick) published {len(days)} day file(s) "
            f"(to {days[-1]}), monthly Parquet, {public / 'index.html'} and the dashboard; "
            f"its freshness check found {SILENT_SAMPLE_ORIGIN} silent on {yesterday}, and "
            "notify_incident_http opened an incident report for it:\n"
        )
        print(format_rows(reported(), "table"))
    badge = services.start_function("usage_badge", env, logs, registry=running)
    url = f"{badge.url}/?repo={samples.GITHUB_REPOS[0]}"
    print(f"\nusage_badge on {badge.url}; a sample repository's badge: {url}")
    server = services.serve_folder(public, logs, registry=running)

    def live() -> None:
        write_live(warehouse, settings, datetime.now(UTC))
        warehouse.close()

    services.every(60, live)  # in production a one-minute Scheduler tick runs publish_live
    print(
        f"the public folder on {server.url}/ — the dashboard at {server.url}/dashboard/ "
        "(its live.json rewritten every minute)"
    )
    return {
        "usage_badge": url,
        "dashboard": f"{server.url}/dashboard/",
        "status": f"{server.url}/status/",
    }


# The sample federation's members as fake BinderHubs on loopback, in the register's order.
FAKE_MODES = ("healthy", "flapping", "drifted", "down")


def _probe_members(
    settings: Settings, warehouse: Warehouse, env: dict, logs: Path, running: list, alerts: dict
) -> list[str]:
    """The sample register's members as four fake BinderHubs (healthy; flapping; versions
    drifted; down with 503), probed by ``probe_members`` for the last three minutes, as
    Cloud Scheduler's ticks would: the down member's third failed probe opens an incident
    through notify_incident_http. Then a tick each minute keeps the status page current.
    Returns the names of the members judged down."""
    import csv
    import io

    from ..core.members import COLUMNS, read_members
    from .fake_members import FakeMember

    register = settings.members or services.SAMPLE_MEMBERS
    if not register.is_file():  # a wheel carries no samples
        return []
    members = read_members(register)
    fakes = [
        FakeMember(m.name, FAKE_MODES[n % len(FAKE_MODES)]).start() for n, m in enumerate(members)
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for member, fake in zip(members, fakes):
        writer.writerow(
            [
                member.name,
                member.origin,
                fake.url,
                " ".join(member.projects),
                member.invoice,
                member.currency,
            ]
        )
    local = Path(settings.state_dir) / "members-local.csv"
    local.write_text(out.getvalue())
    probe_env = {
        **env,
        "BINDEROPS_MEMBERS": str(local.resolve()),
        "BINDEROPS_PUBLIC_DIR": str(Path(settings.public_dir).resolve()),
        "BINDEROPS_HEALTH_ALERT_URL": f"{alerts['notify_incident_http']}?token={alerts['alert_token']}",
        "BINDEROPS_PROBE_TIMEOUT_SECONDS": "2",
        "BINDEROPS_PROBE_ROUND_SECONDS": "10",
    }
    function = services.start_function("probe_members", probe_env, logs, registry=running)
    print(
        f"\nprobe_members on {function.url}: the sample members as fake BinderHubs "
        + ", ".join(f"{m.name} ({fake.mode}) on {fake.url}" for m, fake in zip(members, fakes))
    )

    def tick(minute: datetime | None = None) -> None:
        for n, fake in enumerate(fakes):  # launches the members' /metrics count
            if fake.mode != "down":
                fake.launch("success", 10)
                fake.launch("failure", n)
        data = json.dumps({"minute": minute.isoformat()} if minute else {}).encode()
        post_cloudevent(function.url, data, {}, settings.project, "probe-ticks")

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for back in (3, 2, 1):  # three rounds: a member down since the first is judged down
        tick(now - timedelta(minutes=back))
    services.every(60, tick)  # in production Cloud Scheduler ticks each minute
    rows = warehouse.query(
        "SELECT member, up, ok, status, response_ms, failed_checks, drift FROM member_health "
        "WHERE minute = @minute ORDER BY member",
        {"minute": now - timedelta(minutes=1)},
    )
    warehouse.close()
    print(format_rows(rows, "table"))
    return [r["member"] for r in rows if not r["up"]]


def _start_deploys(settings: Settings, env: dict, logs: Path, emulator, running: list) -> dict:
    """``deploy_status`` on the ``cloud-builds`` topic and ``github_webhook``, with the local
    deploy back end; returns what ``binderops send`` needs to reach them."""
    deploys = config.read(DeploySettings)
    secret = secrets.token_hex(16)  # per run; stack.json (mode 0600) hands it to `binderops send`
    deploy_env = {
        **env,
        "BINDEROPS_STATE_DIR": str(Path(settings.state_dir).resolve()),
        "BINDEROPS_PROJECT": settings.project,
        "BINDEROPS_DEPLOY_BACKEND": "local",
        "BINDEROPS_DEPLOY_REPOS": ",".join(deploys.repos or (send.SAMPLE_REPO,)),
        "BINDEROPS_GITHUB_WEBHOOK_SECRET": secret,
    }
    port = services.free_port()
    if emulator:
        deploy_env["PUBSUB_EMULATOR_HOST"] = emulator.url.removeprefix("http://")
    else:  # builds report straight to deploy_status (it starts production builds itself)
        deploy_env["BINDEROPS_DEPLOY_STATUS_URL"] = f"http://127.0.0.1:{port}"
    status = services.start_function("deploy_status", deploy_env, logs, port=port, registry=running)
    if emulator:
        services.PubSubWiring(settings.project, deploys.builds_topic, status.url).create(
            emulator.url
        )
    webhook = services.start_function("github_webhook", deploy_env, logs, registry=running)
    print(
        f"\ngithub_webhook on {webhook.url}, deploy_status on {status.url} (builds run locally: "
        f"{deploys.command or 'a sample command'})"
    )
    return {
        "github_webhook": webhook.url,
        "webhook_secret": secret,
        "deploy_repo": deploy_env["BINDEROPS_DEPLOY_REPOS"].split(",")[0],
        "deploy_status_log": str(status.log_path),
    }


def _sample_deploy(stack_info: dict, warehouse: Warehouse) -> None:
    """A signed push webhook, as `binderops send github-push` sends it, followed to production.
    The sample's sha and delivery are always the same: a second `binderops run` finds its
    builds and deploys nothing more (as GitHub's redelivery of one push would)."""
    sha = SAMPLE_SHA
    response = send.post_webhook(
        stack_info["github_webhook"],
        stack_info["webhook_secret"],
        "push",
        send.push_event(stack_info["deploy_repo"], sha),
        SAMPLE_DELIVERY,
    )
    print(
        f"sent a signed push of {sha[:12]} to github_webhook: {response.status_code} {response.json()}"
    )

    def both_recorded():
        rows = warehouse.query(schemas.sql("local/deployments_of_sha"), {"sha": sha})
        warehouse.close()
        return rows if len(rows) == 2 else None

    rows = _wait_for(
        "the sample deploy (staging, then production)",
        both_recorded,
        120,
        Path(stack_info["deploy_status_log"]),
    )
    print(
        "staging built, then production, each reported back through cloud-builds → deploy_status:\n"
    )
    print(format_rows(rows, "table"))


def _start_incidents(settings: Settings, env: dict, logs: Path, emulator, running: list) -> dict:
    """``notify_incident_http`` (token auth) and ``notify_incident`` on a Pub/Sub alert topic.
    Without a GitHub token, reports go to STATE_DIR/incidents; chat to STATE_DIR/chat.jsonl."""
    state = Path(settings.state_dir).resolve()
    token = secrets.token_urlsafe(16)
    incident_env = {**env, "BINDEROPS_STATE_DIR": str(state), "BINDEROPS_ALERT_TOKEN": token}
    if not config.read(IncidentSettings).chat_webhooks:
        incident_env["BINDEROPS_CHAT_WEBHOOKS"] = f"file={state / 'chat.jsonl'}"
    webhook = services.start_function("notify_incident_http", incident_env, logs, registry=running)
    info: dict[str, Any] = {
        "notify_incident_http": f"{webhook.url}/",
        "alert_token": token,
        "notify_incident_log": str(webhook.log_path),
    }
    if emulator:
        subscriber = services.start_function(
            "notify_incident", incident_env, logs, registry=running
        )
        wiring = services.PubSubWiring(settings.project, "monitoring-alerts", subscriber.url)
        wiring.create(emulator.url)
        info["alert_topic"] = f"projects/{settings.project}/topics/monitoring-alerts"
        info["_wiring"] = wiring
    where = f"GitHub ({settings.incident_repo})" if settings.github_token else state / "incidents"
    print(
        f"\nnotify_incident_http on {webhook.url}"
        + (", notify_incident on the monitoring-alerts topic" if emulator else "")
        + f"; reports go to {where}"
    )
    return info


def _sample_incident(info: dict, warehouse: Warehouse) -> None:
    """An alert that opens (over the webhook channel) and closes (over Pub/Sub, when the emulator runs)."""
    now = int(time.time())
    # One sample incident, whichever run sends it: a second run finds its report, chat marker
    # and rows, and adds none.
    incident_id = SAMPLE_INCIDENT
    opening = send.alert_notification("open", incident_id, "Launch events dead-lettered", now)
    closing = send.alert_notification("closed", incident_id, "Launch events dead-lettered", now)
    response = send.post_alert(info["notify_incident_http"], info["alert_token"], opening)
    print(f"sent an open alert to notify_incident_http: {response.status_code} {response.json()}")
    if "_wiring" in info:
        info["_wiring"].publish([(json.dumps(closing).encode(), {})])
        print("published its closing notification to the monitoring-alerts topic")
    else:
        send.post_alert(info["notify_incident_http"], info["alert_token"], closing)

    def closed():
        rows = warehouse.query(schemas.sql("local/closed_incident"), {"id": incident_id})
        warehouse.close()
        return rows

    rows = _wait_for("the sample incident's close", closed, 60, Path(info["notify_incident_log"]))
    print("the incident, opened and closed, as the public incidents table shows it:\n")
    print(format_rows(rows, "table"))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run_stack(
    settings: Settings, launches: int = 2000, once: bool = False, use_emulator: bool = True
) -> int:
    state = Path(settings.state_dir)
    with one_run_at_a_time(state):
        return _run_stack(settings, state, launches, once, use_emulator)


@contextmanager
def one_run_at_a_time(state: Path) -> Iterator[None]:
    """Hold ``STATE_DIR/run.pid`` while the stack runs: a second stack in the same folder
    would take over the first one's warehouse, logs and stack.json."""
    state.mkdir(parents=True, exist_ok=True)
    with open(state / "run.pid", "a+") as pid_file:
        try:
            fcntl.flock(pid_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid_file.seek(0)
            holder = pid_file.read().strip() or "unknown"
            raise Mistake(
                f"another `binderops run` (PID {holder}) is using {state}; stop it first, "
                "or set BINDEROPS_STATE_DIR to another folder"
            ) from None
        pid_file.seek(0)
        pid_file.truncate()
        pid_file.write(f"{os.getpid()}\n")
        pid_file.flush()
        yield  # closing the file releases the lock, however the stack ends


def _run_stack(
    settings: Settings, state: Path, launches: int, once: bool, use_emulator: bool
) -> int:
    logs = state / "logs"
    warehouse = existing_warehouse(settings, create=True)
    warehouse.setup()
    warehouse.close()
    launches_settings = config.read(LaunchSettings)
    running: list[services.Service] = []
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops the stack as Ctrl-C does
    try:
        emulator = None
        if use_emulator:
            try:
                emulator = services.start_emulator(settings.project, logs, registry=running)
                print(f"Pub/Sub emulator on {emulator.url}")
            except services.ToolMissing as e:
                print(
                    f"Pub/Sub emulator not available ({e}); posting CloudEvents straight to the "
                    "function instead."
                )
        env = {
            "BINDEROPS_WAREHOUSE": warehouse.url,
            "BINDEROPS_DEFAULT_ORIGIN": launches_settings.default_origin,
        }
        # The sample federation's register, passed explicitly: nothing else reads samples/.
        register = settings.members or services.SAMPLE_MEMBERS
        if register.is_file():  # a wheel carries no samples
            env["BINDEROPS_MEMBERS"] = str(register.resolve())
        function = services.start_function("ingest_launch", env, logs, registry=running)
        print(f"ingest_launch (functions-framework) on {function.url}; logs in {logs}")

        messages = samples.sample_day(launches=launches)
        payload = [(m.data, m.attributes) for m in messages]
        if emulator:
            wiring = services.PubSubWiring(
                settings.project, launches_settings.launch_topic, function.url
            )
            wiring.create(emulator.url)
            wiring.publish(payload)
            print(
                f"published {len(messages)} sample messages to {wiring.project}/{wiring.topic} "
                "(push into ingest_launch)"
            )
        else:
            for data, attributes in payload:
                post_cloudevent(
                    function.url, data, attributes, settings.project, launches_settings.launch_topic
                )
            print(f"posted {len(messages)} sample messages to ingest_launch")

        event_ids = [m.attributes["event_id"] for m in messages]
        deadline = time.monotonic() + WAIT_SECONDS
        while (done := _accounted(warehouse, event_ids)) < len(messages):
            if time.monotonic() > deadline:
                print(
                    f"only {done} of {len(messages)} messages arrived within {WAIT_SECONDS} s; "
                    f"see {function.log_path}"
                )
                return 1
            time.sleep(0.5)
        print(_summary(warehouse))
        _export_costs(settings, warehouse, env, logs, emulator, running)
        stack_info = _start_deploys(settings, env, logs, emulator, running)
        incident_info = _start_incidents(settings, env, logs, emulator, running)
        send.write_stack(
            state,
            {**stack_info, **{k: v for k, v in incident_info.items() if not k.startswith("_")}},
        )
        try:
            _sample_deploy(stack_info, warehouse)
            _sample_incident(incident_info, warehouse)
        except RuntimeError as e:
            print(f"binderops run: {e}")
            return 1
        badge_info = _publish_archive(
            settings, warehouse, env, logs, emulator, running, incident_info
        )
        down = _probe_members(settings, warehouse, env, logs, running, incident_info)
        if down:
            opened = warehouse.query(
                "SELECT incident_id, policy, issue_url FROM incidents "
                "WHERE STARTS_WITH(incident_id, 'health-down-') ORDER BY started DESC LIMIT 3"
            )
            warehouse.close()
            print(
                f"\n{', '.join(down)} failed three probes in a row: probe_members opened an "
                "incident through notify_incident_http:\n"
            )
            print(format_rows(opened, "table"))
        print(f"the federation status page: {badge_info['status']}")
        print(
            f'\nTry: {_command()} query "SELECT * FROM launches_daily ORDER BY launches DESC LIMIT 10"'
        )
        if not once:
            print(f"     curl '{badge_info['usage_badge']}'   (the badge a README shows)")
            print(f"     open {badge_info['dashboard']}   (the public dashboard)")
            print(
                f'     {_command()} send github-push      (then: {_command()} query "SELECT * FROM '
                'deployments")'
            )
            print(
                f"     {_command()} send alert open       ({_command()} send alert closed closes it)"
            )
        if once:
            return 0
        print("\nThe stack is running; press Ctrl-C to stop it.")
        threading.Event().wait()
        return 0
    except KeyboardInterrupt:
        print("\nstopping the stack")
        return 0
    finally:
        # However it ends (Ctrl-C pressed twice, SIGTERM while starting), every service it
        # started is stopped: they run in their own sessions and would outlive it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        services.stop_all(running)
