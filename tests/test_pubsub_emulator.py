"""The Pub/Sub path end to end: the official emulator pushing into functions-framework."""

import json
import logging
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from binderops.launches.binderhub import PubSubHandler
from binderops.local import samples as sample
from binderops.local import services as local
from binderops.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.emulator


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def count(warehouse, sql: str) -> int:
    try:
        return warehouse.query(sql)[0]["n"]
    finally:
        warehouse.close()  # give the function the file back


@pytest.fixture
def stack(emulator, tmp_path, request):
    """A warehouse, ``ingest_launch`` from ``source`` and a push subscription into it."""
    services = []

    def start(source: Path, topic: str):
        url = f"duckdb://{tmp_path / 'w.duckdb'}"
        function = local.start_function(
            "ingest_launch", {"BINDEROPS_WAREHOUSE": url}, tmp_path / "logs", source=source
        )
        services.append(function)
        wiring = local.PubSubWiring("binderops-test", topic, function.url)
        wiring.create(emulator.url)
        return open_warehouse(url), wiring, function

    yield start
    for service in services:
        service.stop()


def test_every_event_is_stored_exactly_once_despite_redelivery_and_write_failures(stack):
    """2,000+ events, each published up to three times with one event_id, while one in five
    warehouse writes fails (before or after writing): one row per event, nothing lost."""
    warehouse, wiring, function = stack(ROOT / "tests" / "faulty_main.py", "launch-faults")
    messages = sample.sample_day(launches=2100, seed=7)
    rng = random.Random(3)
    deliveries = [(m.data, m.attributes) for m in messages for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)
    assert wiring.publish(deliveries) == len(deliveries)

    valid = sum(m.valid for m in messages)
    wait_until(
        lambda: (
            count(
                warehouse,
                "SELECT (SELECT COUNT(*) FROM raw.launches) + (SELECT COUNT(*) FROM raw.launch_errors) AS n",
            )
            >= len(messages)
        ),
        timeout=240,
        what="every message to be stored",
    )
    time.sleep(2)  # let late redeliveries arrive: they must not add rows
    rows = warehouse.query(
        "SELECT (SELECT COUNT(*) FROM raw.launches) AS launches, (SELECT COUNT(DISTINCT event_id) "
        "FROM raw.launches) AS ids,"
        " (SELECT COUNT(*) FROM launches) AS public, (SELECT COUNT(*) FROM raw.launch_errors) AS errors"
    )
    warehouse.close()
    assert rows == [
        {"launches": valid, "ids": valid, "public": valid, "errors": len(messages) - valid}
    ]
    stored_ids = {r["event_id"] for r in warehouse.query("SELECT event_id FROM raw.launches")}
    warehouse.close()
    assert stored_ids == {m.attributes["event_id"] for m in messages if m.valid}
    log = function.log_path.read_text()
    assert "injected failure before write" in log and "injected failure after write" in log


def test_binderhub_handler_publishes_launches_that_reach_the_warehouse(stack):
    warehouse, _wiring, _ = stack(ROOT / "functions" / "main.py", "launch-binderhub")
    logger = logging.getLogger("binderhub.events.test")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    # Delivery, not the time budget, is under test here (test_binderhub.py has the budget):
    # the emulator on a loaded CI machine may take longer than the 5 s default.
    handler = PubSubHandler("binderops-test", "launch-binderhub", timeout=30)
    logger.addHandler(handler)
    event = {
        "timestamp": "2026-03-01T10:00:00.123456Z",
        "schema": "binderhub.jupyter.org/launch",
        "version": 6,
        "provider": "Zenodo",
        "spec": "10.5281/zenodo.3242074",
        "ref": "3242074",
        "status": "success",
        "origin": "gke.mybinder.org",
        "build_token": False,
        "request_origin": "",
    }
    for _ in range(3):  # three real launches of one record in one minute
        logger.info(event)
    handler.close()
    logger.removeHandler(handler)

    wait_until(
        lambda: count(warehouse, "SELECT COUNT(*) AS n FROM launches") >= 3, 60, "three launches"
    )
    rows = warehouse.query("SELECT event_id, repo, ref, resolved_ref, timestamp FROM launches")
    warehouse.close()
    assert len({r["event_id"] for r in rows}) == 3  # one unique event_id per publish
    assert {(r["repo"], r["ref"], r["resolved_ref"], r["timestamp"].isoformat()) for r in rows} == {
        ("10.5281/zenodo.3242074", "", "3242074", "2026-03-01T10:00:00+00:00")
    }


def test_binderops_run_once_feeds_the_sample_through_the_emulator(tmp_path, emulator):
    env = {**os.environ, "BINDEROPS_STATE_DIR": str(tmp_path / "state")}
    result = subprocess.run(
        [sys.executable, "-m", "binderops.local.cli", "run", "--once", "--launches", "300"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Pub/Sub emulator on http://127.0.0.1:" in result.stdout
    assert "launches stored: 300   rejected (raw.launch_errors): 5" in result.stdout
    assert f"warehouse: duckdb://{tmp_path / 'state' / 'warehouse.duckdb'}" in result.stdout
    # The daily cost export, fired by a tick through the emulator, published the sample's costs.
    published = tmp_path / "state" / "public" / "cloud-costs.jsonl"
    assert (
        f"export_costs (fired by a scheduler tick) published {published.resolve()}" in result.stdout
    )
    days = [json.loads(line)["start_time"] for line in published.read_text().splitlines()]
    assert days and len(days) == len(set(days))  # one line per day
    detail = published.with_name("cloud-costs-detail.jsonl").read_text().splitlines()
    lines = [json.loads(line) for line in detail]
    assert {line["source"] for line in lines} >= {"gcp-billing-export"}
    assert {line["currency"] for line in lines} == {"USD", "EUR"}
    # A signed sample push deployed staging then production through cloud-builds, and a
    # sample alert opened (webhook channel) and closed (Pub/Sub channel) one report.
    assert re.search(r"staging\s+[0-9a-f]{40}\s+push\s+success", result.stdout)
    assert re.search(r"production\s+[0-9a-f]{40}\s+push\s+success", result.stdout)
    assert re.search(r"0\.local-sample\s+Launch events dead-lettered .* 3900 ", result.stdout)
    report = (tmp_path / "state" / "incidents" / "1.md").read_text()
    assert "Alert closed after 1 h 5 min" in report and "postmortem-needed" in report
    stack = json.loads((tmp_path / "state" / "stack.json").read_text())
    assert oct((tmp_path / "state" / "stack.json").stat().st_mode & 0o777) == "0o600"
    assert (
        stack["webhook_secret"] not in result.stdout and stack["alert_token"] not in result.stdout
    )


def run_without_the_emulator(env: dict) -> subprocess.CompletedProcess:
    command = ["run", "--once", "--no-emulator", "--launches", "50"]
    return subprocess.run(
        [sys.executable, "-m", "binderops.local.cli", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_binderops_run_without_the_emulator_posts_cloudevents(tmp_path):
    env = {**os.environ, "BINDEROPS_STATE_DIR": str(tmp_path / "state")}
    result = run_without_the_emulator(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "posted 55 sample messages to ingest_launch" in result.stdout
    assert "launches stored: 50   rejected (raw.launch_errors): 5" in result.stdout
    assert re.search(r"production\s+[0-9a-f]{40}\s+push\s+success", result.stdout)
    assert re.search(r"0\.local-sample\s+Launch events dead-lettered .* 3900 ", result.stdout)
    state = tmp_path / "state"

    def made() -> dict:
        warehouse = open_warehouse(f"duckdb://{state / 'warehouse.duckdb'}")
        try:
            tables = ("raw.deployments", "raw.incident_notifications", "raw.launches")
            counts = {t: count(warehouse, f"SELECT COUNT(*) AS n FROM {t}") for t in tables}
        finally:
            warehouse.close()
        chat = (state / "chat.jsonl").read_text().splitlines()
        builds = sorted(p.name for p in (state / "builds").glob("*.json"))
        return {
            **counts,
            "chat": chat,
            "reports": sorted(os.listdir(state / "incidents")),
            "builds": builds,
        }

    first = made()
    assert first["raw.deployments"] == 2 and len(first["chat"]) >= 2
    again = run_without_the_emulator(env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert '"action": "exists"' in again.stdout.replace("'", '"')
    assert made() == first  # the README's promise: running it again duplicates nothing


def _stack_processes(state: Path) -> list[int]:
    """Processes started for the stack in ``state`` (found by their environment; Linux /proc)."""
    marker = f"BINDEROPS_STATE_DIR={state}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def test_stopping_a_service_ends_every_process_of_its_group(tmp_path):
    """A child in a service's process group that misses or ignores the stop signal (as a
    gunicorn worker forked just as its master is told to stop does) is killed with it."""
    process = subprocess.Popen(
        ["sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait"],  # both ignore SIGTERM
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    child = int(process.stdout.readline())
    local.stop_all([local.Service("sh", "", process, tmp_path / "sh.log")], grace=0.5)
    assert process.returncode == -9

    def ended() -> bool:
        try:
            return Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0] == "Z"
        except OSError:
            return True  # reaped

    wait_until(ended, 10, "the service's child to end")


@pytest.mark.parametrize("how", ["Ctrl-C twice once running", "SIGTERM while starting"])
def test_stopping_binderops_run_leaves_no_process_behind(tmp_path, how):
    import signal

    state = (tmp_path / "state").resolve()
    env = {**os.environ, "BINDEROPS_STATE_DIR": str(state)}
    env.pop("PUBSUB_EMULATOR_HOST", None)
    run = subprocess.Popen(
        [sys.executable, "-m", "binderops.local.cli", "run", "--no-emulator", "--launches", "20"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for = "press Ctrl-C" if how.startswith("Ctrl-C") else "github_webhook on"
    output = ""
    for line in run.stdout:
        output += line
        if wait_for in line:
            break
    assert wait_for in output, output
    assert len(_stack_processes(state)) >= 4  # the functions, each in its own session
    if how.startswith("Ctrl-C"):
        run.send_signal(signal.SIGINT)
        time.sleep(0.2)
        run.send_signal(signal.SIGINT)  # an impatient second Ctrl-C must not cut the clean-up short
    else:
        run.send_signal(signal.SIGTERM)
    run.communicate(timeout=60)
    assert run.returncode in (0, 1)
    wait_until(lambda: _stack_processes(state) == [], 15, "every process of the stack to end")
