"""The BinderHub-side handler never holds BinderHub up when Pub/Sub is down."""

import os
import subprocess
import sys
import time
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"
BINDERHUB = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(relativeCreated)d %(name)s %(message)s")
from binderops.launches.binderhub import PubSubHandler
handler = PubSubHandler("binder-prod", "launch-events", timeout=1.0)
events = logging.getLogger("binderhub.events")
events.addHandler(handler)
events.propagate = False
events.info({"schema": "binderhub.jupyter.org/launch", "version": 6, "provider": "GitHub"})
"""


def test_exit_waits_a_few_seconds_at_most_and_the_lost_launch_is_logged(unused_port):
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", BINDERHUB],
        capture_output=True,
        text=True,
        timeout=60,
        # Pub/Sub is down: nothing listens on this loopback port.
        env={
            **os.environ,
            "PYTHONPATH": str(FUNCTIONS),
            "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{unused_port}",
        },
    )
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert took < 10, f"BinderHub's exit was held {took:.1f} s"
    lost = [line for line in result.stderr.splitlines() if "was not published" in line]
    assert lost, result.stderr
    logged_at_ms = int(lost[0].split()[0])
    assert logged_at_ms < 6000  # within seconds of the publish, not after the client's 600 s
