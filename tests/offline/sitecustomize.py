"""Loaded by a tool the tests run (PYTHONPATH points here): records every name lookup and
connection the process attempts, through Python's audit hooks (PEP 578), into the file
``BINDEROPS_NETWORK_LOG`` names. Nothing is patched: the tool runs as it always does."""

import os
import sys

_LOG = os.environ.get("BINDEROPS_NETWORK_LOG")


def _record(event: str, args: tuple) -> None:
    if event not in ("socket.getaddrinfo", "socket.connect"):
        return
    target = args[0] if event == "socket.getaddrinfo" else args[1]
    with open(_LOG, "a") as log:
        log.write(f"{event} {target!r}\n")


if _LOG:
    sys.addaudithook(_record)
