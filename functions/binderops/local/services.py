"""The one-machine services: the official Pub/Sub emulator pushing into functions-framework.

Used by ``binderops run`` and by the tests, so that what a newcomer sees is what is tested.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from ..core.errors import BinderopsError, ConfigError

log = logging.getLogger(__name__)

FUNCTIONS_DIR = Path(__file__).resolve().parents[2]
# The sample federation members' invoices: the sample stack (`binderops run`) passes this file
# to its cost export when BINDEROPS_MEMBER_COSTS is unset; no other command reads it.
SAMPLE_MEMBER_COSTS = FUNCTIONS_DIR.parent / "samples" / "member-costs.csv"
# The sample federation's register: passed by the sample stack as BINDEROPS_MEMBERS, likewise.
SAMPLE_MEMBERS = FUNCTIONS_DIR.parent / "samples" / "members.csv"


class ToolMissing(BinderopsError):
    """A tool the local stack needs is not installed; the message says how to get it."""

    kind = "tool_missing"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_http(url: str, process: subprocess.Popen, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with status {process.returncode} before it was ready"
            )
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer on {url} within {timeout:.0f} s")


def find_emulator() -> Path:
    """The ``cloud-pubsub-emulator`` script of the Google Cloud CLI, or ToolMissing."""
    override = os.environ.get("BINDEROPS_PUBSUB_EMULATOR")
    if override:
        if not os.access(override, os.X_OK) or Path(override).is_dir():
            raise ConfigError(
                f"BINDEROPS_PUBSUB_EMULATOR names {override!r}, which is not a program; "
                "unset it to find the emulator with `gcloud info`"
            )
        return Path(override)
    if shutil.which("java") is None:
        raise ToolMissing(
            "the Pub/Sub emulator needs Java (install a JRE, e.g. `apt-get install default-jre-headless`)"
        )
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise ToolMissing(
            "the Pub/Sub emulator ships with the Google Cloud CLI, which is not on PATH"
        )
    root = subprocess.run(
        [gcloud, "info", "--format=value(installation.sdk_root)"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    script = Path(root) / "platform" / "pubsub-emulator" / "bin" / "cloud-pubsub-emulator"
    if not script.exists():
        raise ToolMissing(
            f"no Pub/Sub emulator at {script}: run `gcloud components install pubsub-emulator`"
        )
    return script


@dataclass
class Service:
    """A child process serving HTTP on 127.0.0.1, stopped with ``stop()``."""

    name: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        stop_all([self])


def stop_all(services: list[Service], grace: float = 10) -> None:
    """Stop services at once: all are asked to terminate, waited for up to ``grace``, then
    what is left is killed. Each runs in its own session and the signals go to its whole
    process group: a function's gunicorn worker too, which, forked just as its master was
    told to stop, misses the master's signal and would outlive the stack."""
    running = [s for s in services if s.process.poll() is None]
    for service in running:
        _signal_group(service.process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for service in running:
        try:
            service.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for service in running:
        _signal_group(service.process, signal.SIGKILL)  # what still runs, the leader or not
        service.process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal the process group a service leads (its id is the service's pid). Linux keeps
    that id from being reused while any member is left, so a group whose members have all
    ended is the only one not found."""
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM for the block, then deliver them. Starting a child must not be
    interrupted between its fork and its registration: it runs in its own session, and a child
    nobody knows of outlives the stack."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers run in the main thread only
        return
    caught: list[int] = []  # signal numbers
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {
        signum: signal.signal(signum, lambda number, frame: caught.append(number))
        for signum in held
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for number in caught:
        signal.raise_signal(number)  # now handled as it would have been


def _start(
    name: str,
    command: list[str],
    env: Mapping[str, str],
    url: str,
    log_dir: Path,
    timeout: float,
    registry: list[Service] | None = None,
) -> Service:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    service = None
    try:
        with _interrupts_held():
            with open(log_path, "wb") as out:
                process = subprocess.Popen(
                    command,
                    env=dict(env),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            service = Service(name, url, process, log_path)
            if registry is not None:
                registry.append(service)
        _wait_for_http(url, process, name, timeout)
    except RuntimeError as e:
        if service is not None:
            service.stop()
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{e}; its log ({log_path}) ends:\n{tail}") from None
    except BaseException:  # interrupted while it started
        if service is not None:
            service.stop()
        raise
    return service


def start_emulator(
    project: str, log_dir: Path, port: int | None = None, registry: list[Service] | None = None
) -> Service:
    """Start the official Pub/Sub emulator on 127.0.0.1 (added to ``registry`` as soon as it runs)."""
    script = find_emulator()
    port = port or free_port()
    data_dir = log_dir / f"pubsub-{port}"
    command = [str(script), "--host=127.0.0.1", f"--port={port}", f"--data-dir={data_dir}"]
    env = {**os.environ, "CLOUDSDK_CORE_PROJECT": project}
    return _start(
        "pubsub-emulator",
        command,
        env,
        f"http://127.0.0.1:{port}",
        log_dir,
        timeout=60,
        registry=registry,
    )


def start_function(
    target: str,
    env: Mapping[str, str],
    log_dir: Path,
    source: Path | None = None,
    port: int | None = None,
    registry: list[Service] | None = None,
) -> Service:
    """Serve one entry point of ``functions/main.py`` with functions-framework on 127.0.0.1
    (added to ``registry`` as soon as it runs, so its owner can always stop it)."""
    port = port or free_port()
    source = source or FUNCTIONS_DIR / "main.py"
    command = [
        sys.executable,
        "-m",
        "functions_framework",
        f"--source={source}",
        f"--target={target}",
        "--signature-type=cloudevent",
        "--host=127.0.0.1",
        f"--port={port}",
    ]
    # The function imports ``binderops`` from beside main.py, as it does when deployed.
    full_env = {**os.environ, **env, "PYTHONPATH": str(source.parent)}
    return _start(
        target,
        command,
        full_env,
        f"http://127.0.0.1:{port}",
        log_dir,
        timeout=30,
        registry=registry,
    )


def serve_folder(folder: Path, log_dir: Path, registry: list[Service] | None = None) -> Service:
    """Serve ``folder`` read-only over HTTP on 127.0.0.1, as the public bucket serves it."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(folder),
    ]
    return _start("public", command, os.environ, f"http://127.0.0.1:{port}", log_dir, 10, registry)


def every(seconds: float, action) -> threading.Thread:
    """Run ``action`` every ``seconds`` on a daemon thread (it ends with the process); a
    failure is printed and the next run still happens."""

    def loop() -> None:
        while True:
            time.sleep(seconds)
            try:
                action()
            except Exception as e:
                print(f"binderops run: {e}", file=sys.stderr)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


@dataclass
class PubSubWiring:
    """Topic, dead-letter topic and push subscription into a function, on the emulator."""

    project: str
    topic: str
    push_endpoint: str
    subscription: str = ""
    dead_letter_topic: str = ""
    _publisher: Any = field(default=None, repr=False)  # a pubsub_v1.PublisherClient, from create

    def create(self, emulator_url: str) -> None:
        from google.cloud import pubsub_v1

        os.environ["PUBSUB_EMULATOR_HOST"] = emulator_url.removeprefix("http://")
        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()
        topic_path = publisher.topic_path(self.project, self.topic)
        dead_path = publisher.topic_path(self.project, f"{self.topic}-dead-letter")
        sub_path = subscriber.subscription_path(self.project, f"{self.topic}-push")
        for path in (topic_path, dead_path):
            publisher.create_topic(name=path)
        subscriber.create_subscription(
            request={
                "name": sub_path,
                "topic": topic_path,
                "push_config": {"push_endpoint": f"{self.push_endpoint}/{topic_path}"},
                "ack_deadline_seconds": 30,
                "dead_letter_policy": {"dead_letter_topic": dead_path, "max_delivery_attempts": 10},
            }
        )
        subscriber.close()
        self.subscription, self.dead_letter_topic, self._publisher = sub_path, dead_path, publisher

    def publish(self, messages, timeout: float = 60) -> int:
        """Publish ``(data, attributes)`` pairs; return how many were accepted."""
        futures = [
            self._publisher.publish(
                self._publisher.topic_path(self.project, self.topic), data, **attrs
            )
            for data, attrs in messages
        ]
        return sum(1 for f in futures if f.result(timeout=timeout))
