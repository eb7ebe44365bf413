"""The local deploy back end: Cloud Build's part, played by subprocesses on this machine.

A deploy is a Build resource in ``STATE_DIR/builds/ID.json`` and a runner process that
runs ``BINDEROPS_DEPLOY_COMMAND`` (with the sha and environment in its environment, a
timeout, and its output in ``ID.log``) and publishes each status change exactly as
Cloud Build does on ``cloud-builds``: attributes ``buildId`` and ``status``, the Build
as data. ``deploy_status`` therefore sees the same messages locally as in production.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..core.files import write_atomically
from ..core.locks import locked
from .builds import Build, DeployRequest, already_started, tags

log = logging.getLogger("binderops.localbuild")

# What a deploy command's environment holds besides the facts of its deploy
# (BINDEROPS_DEPLOY_SHA and the rest, see ``run``) and BINDEROPS_DEPLOY_PASS_ENV: an allow-list.
# The command runs code from pull requests, and a deny-list would let the next secret setting
# through. docs/operators.md lists the same names (a test holds them equal).
BUILD_VARIABLES = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TERM",
)
# What the runner, binderops' own code, needs besides to publish statuses as Cloud Build does;
# the command never sees them.
REPORTING_VARIABLES = ("PUBSUB_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS")
DEFAULT_COMMAND = (
    'echo "deploying $BINDEROPS_DEPLOY_SHA to $BINDEROPS_DEPLOY_ENVIRONMENT"; sleep 1; echo done'
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _write(path: Path, resource: dict) -> None:
    write_atomically(path, json.dumps(resource, indent=1).encode())


class LocalBuilds:
    def __init__(
        self,
        state_dir: Path,
        command: str,
        timeout: int,
        project: str,
        topic: str,
        status_url: str,
        pass_env: Sequence[str] = (),
    ) -> None:
        """``command`` (the sample when empty), its ``timeout`` in seconds, where statuses go
        (``topic`` of ``project`` on Pub/Sub, or straight to ``status_url`` when set), and the
        variables the command gets beyond ``BUILD_VARIABLES`` (``pass_env``)."""
        self.dir = Path(state_dir).resolve() / "builds"
        self.command = command or DEFAULT_COMMAND
        self.timeout = timeout
        self.project, self.topic, self.status_url = project, topic, status_url
        self.passed = (*BUILD_VARIABLES, *pass_env)

    def _resources(self) -> list[dict]:
        found = []
        for path in self.dir.glob("*.json"):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # being replaced right now
        return found

    def find(self, wanted: Sequence[str], status: str = "", limit: int = 10) -> list[Build]:
        matches = [
            r
            for r in self._resources()
            if set(wanted) <= set(r.get("tags", [])) and (not status or r.get("status") == status)
        ]
        matches.sort(key=lambda r: r.get("createTime", ""), reverse=True)
        return [Build.from_resource(r) for r in matches[:limit]]

    def get(self, build_id: str) -> Build | None:
        try:
            return Build.from_resource(json.loads((self.dir / f"{build_id}.json").read_text()))
        except (OSError, ValueError):
            return None

    def start(self, request: DeployRequest) -> Build:
        with locked(self.dir):  # two deliveries at once must not both start a build
            if existing := already_started(self, request):
                return existing[0]
            build_id = str(uuid.uuid4())
            path = self.dir / f"{build_id}.json"
            resource = {
                "id": build_id,
                "projectId": self.project,
                "status": "QUEUED",
                "substitutions": {"COMMIT_SHA": request.sha, **request.substitutions},
                "tags": tags(request.sha, request.environment, request.delivery),
                "createTime": _now(),
                "logUrl": (self.dir / f"{build_id}.log").as_uri(),
                "timeout": f"{self.timeout}s",
            }
            _write(path, resource)
        env = {k: os.environ[k] for k in (*self.passed, *REPORTING_VARIABLES) if k in os.environ}
        env["BINDEROPS_LOCAL_BUILD"] = json.dumps(
            {
                "command": self.command,
                "timeout": self.timeout,
                "project": self.project,
                "topic": self.topic,
                "status_url": self.status_url,
                "passed": self.passed,
            }
        )
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])  # the folder binderops/ is in
        # The runner outlives this request, as a Cloud Build build outlives triggers.run.
        with open(
            path.with_suffix(".log"), "ab"
        ) as log_file:  # the runner's own errors land in the build log
            subprocess.Popen(
                [sys.executable, "-m", "binderops.deploys.localbuild", str(path)],
                env=env,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
            )
        return Build.from_resource(resource)


def _report(resource: dict, options: dict) -> None:
    """Publish one status change as Cloud Build does on its ``cloud-builds`` topic."""
    data = json.dumps(resource).encode()
    attributes = {"buildId": resource["id"], "status": resource["status"]}
    if options["status_url"]:
        from ..clients.pubsub import post_cloudevent

        post_cloudevent(
            options["status_url"], data, attributes, options["project"], options["topic"]
        )
        return
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    publisher.publish(
        publisher.topic_path(options["project"], options["topic"]), data, **attributes
    ).result(timeout=60)


def run(path: Path, options: dict) -> str:
    """Run one queued build to the end, reporting QUEUED, WORKING and the final status."""
    resource = json.loads(path.read_text())
    _report(resource, options)
    resource.update(status="WORKING", startTime=_now())
    _write(path, resource)
    _report(resource, options)
    subs = resource["substitutions"]
    env = {k: os.environ[k] for k in options["passed"] if k in os.environ}
    env.update(
        BINDEROPS_DEPLOY_SHA=subs["COMMIT_SHA"],
        BINDEROPS_DEPLOY_ENVIRONMENT=subs["_ENVIRONMENT"],
        BINDEROPS_DEPLOY_REPO=subs.get("_REPO", ""),
        BINDEROPS_DEPLOY_KIND=subs.get("_KIND", ""),
        BINDEROPS_BUILD_ID=resource["id"],
    )
    with open(path.with_suffix(".log"), "ab") as out:
        command = subprocess.Popen(
            options["command"],
            shell=True,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            code = command.wait(timeout=options["timeout"])
            status, detail = (
                ("SUCCESS", "")
                if code == 0
                else ("FAILURE", f"deploy command exited with status {code}")
            )
        except subprocess.TimeoutExpired:
            os.killpg(command.pid, signal.SIGKILL)  # the whole group: a shell's children too
            command.wait()
            status, detail = "TIMEOUT", f"deploy command ran longer than {options['timeout']} s"
    resource.update(status=status, finishTime=_now())
    if detail:
        resource["statusDetail"] = detail
    _write(path, resource)
    _report(resource, options)
    return status


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run(Path(sys.argv[1]), json.loads(os.environ["BINDEROPS_LOCAL_BUILD"]))
