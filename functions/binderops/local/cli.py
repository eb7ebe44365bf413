"""``binderops``: run the local stack, query the warehouse, backfill archives."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__, instance
from ..core import config
from ..core.config import Settings
from ..core.errors import ConfigError, Drop, Retry
from ..warehouse import Warehouse
from . import Mistake
from .tables import format_rows
from .warehouses import existing_warehouse

log = logging.getLogger("binderops")


def cmd_query(args: argparse.Namespace, settings: Settings) -> int:
    # Opened read-only: the engine refuses what is not a read, whatever shape it takes.
    warehouse = existing_warehouse(settings, read_only=True)
    try:
        rows = warehouse.query(args.sql)
    finally:
        warehouse.close()
    print(format_rows(rows, args.format))
    return 0


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from ..launches.backfill import backfill, summary
    from ..launches.settings import LaunchSettings

    missing = [p for p in args.paths if not p.is_file()]
    if missing:
        print(f"binderops backfill: no such file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    total = sum(p.stat().st_size for p in set(args.paths)) or None
    warehouse = existing_warehouse(settings, create=True)
    try:
        with tqdm(
            total=total, unit="B", unit_scale=True, desc="backfill", disable=args.quiet or None
        ) as bar:
            origin = config.read(LaunchSettings).default_origin
            result = backfill(
                args.paths, warehouse, origin, progress=bar.update, replace_live=args.replace_live
            )
    finally:
        warehouse.close()
    if not result.launches:
        reason = f"; the first: {result.first_reason}" if result.first_reason else ""
        print(
            f"binderops backfill: no launch in {', '.join(map(str, args.paths))} "
            f"({result.rejected} line(s) rejected{reason})",
            file=sys.stderr,
        )
        return 1
    for line in summary(result):
        print(line)
    print(f"  warehouse: {warehouse.url}")
    return 0


def cmd_setup(args: argparse.Namespace, settings: Settings) -> int:
    warehouse = existing_warehouse(settings, create=True)
    warehouse.setup()
    warehouse.close()
    print(f"tables and views from schemas/catalog.json are in place in {warehouse.url}")
    return 0


def cmd_costs(args: argparse.Namespace, settings: Settings) -> int:
    from ..costs import export
    from ..costs.invoices import MemberCostsError
    from ..costs.settings import CostSettings
    from ..warehouse import schemas
    from ..warehouse.sql import QueryError

    costs = config.read(CostSettings)
    request = {"start": args.start, "end": args.end} if args.start or args.end else {}
    warehouse = existing_warehouse(settings)
    try:
        result, location = export.run(warehouse, costs, settings, request)
        window = {"first": result.window.first, "last": result.window.last}
        rows = warehouse.query(schemas.sql("costs_window"), window)
    except (export.ExportRequestError, MemberCostsError) as e:
        print(f"binderops costs: {e}", file=sys.stderr)
        return 2
    except QueryError as e:
        print(
            f"binderops costs: cannot read the billing export {costs.billing_table!r} "
            f"({str(e).splitlines()[0]}); "
            "set BINDEROPS_BILLING_TABLE, or run `binderops run` once to load a generated export",
            file=sys.stderr,
        )
        return 2
    finally:
        warehouse.close()
    print(format_rows(rows, "table"))
    print(
        f"\nreplaced {result.window.first}..{result.window.last} ({costs.cost_timezone} days) "
        f"with {result.rows} rows in cloud_costs_daily; published {location}"
    )
    return 0


def cmd_publish(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from .. import dashboard
    from ..core.clock import today_in
    from ..costs.settings import CostSettings
    from ..launches import archive

    request = {"start": args.start or "", "end": args.end or ""}
    warehouse = existing_warehouse(settings)
    today = today_in()
    try:
        result = archive.publish(warehouse, settings, request, today)
        page = dashboard.publish(warehouse, settings, today, config.read(CostSettings).currency)
        checked = _freshness(warehouse, today - timedelta(days=1))
    finally:
        warehouse.close()
    print(f"published {result.summary()}")
    print(f"dashboard: {page}")
    print(checked)
    return 0


def _freshness(warehouse: Warehouse, day) -> str:
    """The freshness check of ``day``, said in a few lines (findings are also logged)."""
    from ..launches import freshness
    from ..launches.settings import LaunchSettings

    # The command prints each finding; its WARNING log line would say it a second time.
    if not log.isEnabledFor(logging.INFO):
        logging.getLogger("binderops.freshness").setLevel(logging.ERROR)
    result = freshness.run(
        warehouse,
        config.read(LaunchSettings),
        day=day,
        incidents=instance.incidents(),
        members=instance.members(),
    )
    if not result.findings:
        return f"freshness of {day}: {len(result.origins)} federation member(s) judged, all whole"
    return "\n".join(f"freshness: {f.describe(day)}" for f in result.findings)


def cmd_freshness(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from ..core.clock import today_in

    day = args.day or today_in() - timedelta(days=1)
    warehouse = existing_warehouse(settings)
    try:
        print(_freshness(warehouse, day))
    finally:
        warehouse.close()
    return 0


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from ..core.members import read_members
    from ..federation import rounds
    from ..federation.settings import FederationSettings

    if not settings.members:
        print(
            "binderops health: no federation register; set BINDEROPS_MEMBERS to its CSV file "
            "(name,origin,url,projects,invoice,currency)",
            file=sys.stderr,
        )
        return 2
    members = read_members(settings.members)
    warehouse = existing_warehouse(settings, create=True)
    try:
        result = rounds.run(
            datetime.now(UTC),
            members,
            warehouse,
            config.read(FederationSettings),
            instance.health_incidents(),
        )
    finally:
        warehouse.close()
    rows = [
        {
            "member": r.member,
            "state": "up" if r.up else "down",
            "since": r.since,
            "health": r.status or "no answer",
            "response_ms": r.response_ms,
            "failing": r.failed_checks or r.error,
            "version_drift": r.drift,
            "launches": None
            if r.launches_success is None
            else f"{r.launches_success} ok, {r.launches_failure} failed",
        }
        for r in result.rows
    ]
    print(format_rows(rows, args.format))
    if result.repeated:
        print(f"(the round of {result.minute:%H:%M} UTC was done already: shown as it was)")
    return 0


def cmd_send(args: argparse.Namespace, settings: Settings) -> int:
    import time

    import requests

    from . import send

    try:
        given = args.secret if args.what == "github-push" else args.token
        stack = {} if args.url and given is not None else send.read_stack(settings.state_dir)
    except FileNotFoundError as e:
        print(f"binderops send: {e}", file=sys.stderr)
        return 2
    try:
        if args.what == "github-push":
            url, secret = (
                args.url or stack["github_webhook"],
                args.secret or stack["webhook_secret"],
            )
            sha = args.sha or send.random_sha()
            payload = send.push_event(
                args.repo or stack.get("deploy_repo", send.SAMPLE_REPO), sha, args.branch
            )
            response = send.post_webhook(url, secret, "push", payload, args.delivery or "")
            print(
                f"push of {sha} → github_webhook: HTTP {response.status_code} {response.text.strip()}"
            )
        else:
            url = args.url or stack["notify_incident_http"]
            token = args.token if args.token is not None else stack.get("alert_token", "")
            now = int(time.time())
            started = send.incident_start(settings.state_dir, args.incident_id, args.state, now)
            notification = send.alert_notification(
                args.state, args.incident_id, args.policy, now, started
            )
            response = send.post_alert(url, token, notification)
            print(
                f"{args.state} alert {args.incident_id} → notify_incident_http: HTTP "
                f"{response.status_code} {response.text.strip()}"
            )
    except requests.ConnectionError:
        print(
            f"binderops send: nothing answers at {url}; is `binderops run` still running?",
            file=sys.stderr,
        )
        return 1
    return 0 if response.ok else 1


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from .stack import run_stack

    return run_stack(
        settings, launches=args.launches, once=args.once, use_emulator=not args.no_emulator
    )


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="binderops",
        description="Operations backbone for a BinderHub federation. With no BINDEROPS_* "
        "variables set, everything runs on this machine (DuckDB warehouse in ./.binderops).",
        epilog="Configuration is read from BINDEROPS_* environment variables; docs/operators.md "
        "lists every setting with its default. `binderops COMMAND --help` says what each takes.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="start the local stack: a sample day of launches, the cost export, a deploy and an incident",
    )
    run.add_argument(
        "--once", action="store_true", help="stop after the sample is stored and summarised"
    )
    run.add_argument(
        "--launches",
        type=int,
        default=2000,
        metavar="N",
        help="valid launches in the sample (default 2000)",
    )
    run.add_argument(
        "--no-emulator", action="store_true", help="post CloudEvents straight to the function"
    )
    run.set_defaults(func=cmd_run)

    query = sub.add_parser("query", help="run BigQuery SQL on the configured warehouse")
    query.add_argument(
        "sql", metavar="SQL", help='e.g. "SELECT provider, COUNT(*) n FROM launches GROUP BY 1"'
    )
    query.add_argument(
        "--format",
        choices=["table", "json", "csv"],
        default="table",
        help="output format (default table)",
    )
    query.set_defaults(func=cmd_query)

    backfill = sub.add_parser(
        "backfill",
        help="load archive files (events-YYYY-MM-DD.jsonl[.gz]); re-runs add nothing",
        description="Load mybinder.org launch archive files, each launch exactly once: an id comes "
        "from a launch's day and content, so a re-run, a renamed, recompressed or re-sorted copy adds "
        "nothing, and a re-published day adds only its new lines. Days that already hold launches "
        "ingested live are skipped (see --replace-live). Exits 1 when no line was a launch.",
    )
    backfill.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    backfill.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    backfill.add_argument(
        "--replace-live",
        action="store_true",
        help="days that already hold launches ingested live are skipped; with this, their "
        "live launches are replaced by the archive's, in one transaction",
    )
    backfill.set_defaults(func=cmd_backfill)

    costs = sub.add_parser(
        "costs",
        help="export daily net cloud cost from the billing export and print the days",
        description="Recompute days of cloud cost from BINDEROPS_BILLING_TABLE (plus member invoices from "
        "BINDEROPS_MEMBER_COSTS), replace them in cloud_costs_daily and publish cloud-costs.jsonl. Without "
        "--start/--end: the trailing window (last BINDEROPS_COST_WINDOW_DAYS days and today; until the 5th, "
        "the previous month too).",
    )
    costs.add_argument("--start", metavar="YYYY-MM-DD", help="first day to recompute")
    costs.add_argument("--end", metavar="YYYY-MM-DD", help="last day to recompute (default today)")
    costs.set_defaults(func=cmd_costs)

    publish = sub.add_parser(
        "publish",
        help="publish the launch archive: day files, monthly Parquet, index, badge counts",
        description="Write events-YYYY-MM-DD.jsonl for every complete UTC day whose launches "
        "changed since it was last published, then launches-YYYY-MM.parquet for their months, "
        "index.jsonl and index.html, to BINDEROPS_PUBLIC_BUCKET or BINDEROPS_PUBLIC_DIR "
        "(default STATE_DIR/public), and refresh the badges' counts for those days. With "
        "--start/--end every day in the range is rewritten.",
    )
    publish.add_argument("--start", metavar="YYYY-MM-DD", help="first day to re-publish")
    publish.add_argument(
        "--end", metavar="YYYY-MM-DD", help="last day to re-publish (default yesterday, UTC)"
    )
    publish.set_defaults(func=cmd_publish)

    fresh = sub.add_parser(
        "freshness",
        help="check a day's launches per federation member against its 7-day median",
        description="Report a day with no launches, a member that went silent, or one whose "
        "launches fell by more than BINDEROPS_FRESHNESS_DROP (default 0.5) of its trailing 7-day "
        "median. With BINDEROPS_FRESHNESS_ALERT_URL set, each finding is posted there as a Cloud "
        "Monitoring notification.",
    )
    fresh.add_argument(
        "--day", type=_date, metavar="YYYY-MM-DD", help="the day to check (default yesterday, UTC)"
    )
    fresh.set_defaults(func=cmd_freshness)

    health = sub.add_parser(
        "health",
        help="probe every member of the federation register now and print the table",
        description="Run this minute's probe round over BINDEROPS_MEMBERS (each member's /health, "
        "/versions and /metrics), store it as probe_members would, and print each member: up or "
        "down (down after 3 failed probes in a row), since when, /health's status and response "
        "time, failing checks, version drift from the reference member, and launches since the "
        "previous round. A round already done this minute is shown as it was.",
    )
    health.add_argument(
        "--format", choices=["table", "json", "csv"], default="table", help="output format"
    )
    health.set_defaults(func=cmd_health)

    send = sub.add_parser(
        "send",
        help="post a signed sample webhook or an alert to the running local stack",
        description="Post a realistic request to a function of the stack `binderops run` started "
        "(its endpoints and per-run secrets are in STATE_DIR/stack.json), or to --url.",
    )
    send_what = send.add_subparsers(dest="what", required=True, metavar="WHAT")
    push = send_what.add_parser(
        "github-push", help="a push to main, signed like GitHub signs it: watch it deploy"
    )
    push.add_argument("--sha", help="the pushed commit (default: a random one)")
    push.add_argument("--repo", help="owner/name (default: the stack's deploy repository)")
    push.add_argument("--branch", default="main", help="the pushed branch (default main)")
    push.add_argument(
        "--delivery", help="X-GitHub-Delivery (repeat one to see a redelivery change nothing)"
    )
    push.add_argument("--url", help="github_webhook's URL (default: the running stack's)")
    push.add_argument("--secret", help="the webhook secret (default: the running stack's)")
    alert = send_what.add_parser(
        "alert", help="a Cloud Monitoring notification: opens, then closes, an incident report"
    )
    alert.add_argument("state", choices=["open", "closed"], help="open or closed")
    alert.add_argument(
        "--incident-id",
        default="0.local-dead-letters",
        help="the incident (default 0.local-dead-letters)",
    )
    alert.add_argument(
        "--policy", default="Launch events dead-lettered", help="the alert policy's name"
    )
    alert.add_argument("--url", help="notify_incident_http's URL (default: the running stack's)")
    alert.add_argument("--token", help="the alert token (default: the running stack's)")
    send.set_defaults(func=cmd_send)

    setup = sub.add_parser("setup", help="create the warehouse tables and views that are missing")
    setup.set_defaults(func=cmd_setup)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    command = f"binderops {args.command}"
    try:
        settings = config.read(Settings)
        return args.func(args, settings)
    except ConfigError as e:
        return fail("binderops", e)
    except (Mistake, Drop) as e:  # bad input: SQL, archives, dates, invoices
        return fail(command, e)
    except Retry as e:  # a warehouse file held by another process, a service down
        print(f"{command}: {e}; try again", file=sys.stderr)
        return 1
    except ModuleNotFoundError as e:
        if not e.name or e.name.startswith("binderops"):
            raise
        # The package alone is what a BinderHub needs; the command's parts are an extra.
        return fail(
            command,
            f"needs {e.name.partition('.')[0]}, which comes with the local tooling: "
            "pip install 'binderops[local]'",
        )
    except Exception as e:
        from google.auth.exceptions import DefaultCredentialsError

        if isinstance(e, DefaultCredentialsError):
            return fail(
                command,
                "no Google credentials for BigQuery: run `gcloud auth application-default "
                "login` or set GOOGLE_APPLICATION_CREDENTIALS",
            )
        raise


def fail(command: str, problem: object) -> int:
    """Say what went wrong in one line (no traceback) and exit 2: the user can fix it."""
    print(f"{command}: {' '.join(str(problem).split())}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
