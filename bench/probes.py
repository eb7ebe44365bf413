"""One probe round over 100 fake members with 10 % never answering, beside a round over 100
healthy ones, in the same run: the round must end within its budget whatever the members do.

Each member is a real HTTP server on loopback (binderops.local.fake_members); the silent ones
hold their requests open far longer than the probe waits.

    python bench/probes.py [--members 100] [--silent 0.1] [--timeout 2] [--budget 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

from binderops.core.members import Member
from binderops.federation.probe import probe_all
from binderops.local.fake_members import FakeMember


def round_over(fakes: list[FakeMember], timeout: float, budget: float) -> tuple[float, int]:
    members = [Member(f.name, f"{f.name}.example.org", f.url, (), "", "USD") for f in fakes]
    start = time.perf_counter()
    probes = probe_all(members, timeout, budget)
    return time.perf_counter() - start, sum(p.ok for p in probes)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100, help="members per round (100)")
    parser.add_argument("--silent", type=float, default=0.1, help="share never answering (0.1)")
    parser.add_argument("--timeout", type=float, default=2.0, help="per-request timeout, s (2)")
    parser.add_argument("--budget", type=float, default=5.0, help="the round's budget, s (5)")
    args = parser.parse_args()
    silent = round(args.members * args.silent)
    healthy = [FakeMember(f"ok-{n}").start() for n in range(args.members)]
    mixed = [
        FakeMember(f"m-{n}", "silent" if n < silent else "healthy").start()
        for n in range(args.members)
    ]
    try:
        rows = [("round", "members", "answered ok", "seconds", "budget")]
        for name, fakes in (("all healthy", healthy), (f"{silent} never answer", mixed)):
            seconds, ok = round_over(fakes, args.timeout, args.budget)
            rows.append((name, str(len(fakes)), str(ok), f"{seconds:.2f}", f"{args.budget:.0f}"))
    finally:
        for fake in healthy + mixed:
            fake.server.server_close()
    print(
        f"Probe rounds, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, per-request timeout {args.timeout} s\n"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
