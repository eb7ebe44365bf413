"""A member's state from one probe to the next: up or down, with hysteresis.

A member goes down after ``down_after`` consecutive failed probes and comes back up after
``up_after`` consecutive good ones, so one lost probe opens nothing. An outage starts at the
first failed probe of the run that took the member down and ends at the first good probe of
the run that brought it back. Each probe row carries the state after it (``up``, ``streak``,
``since``), so the next round needs only the member's previous row, and uptime is the share
of probed minutes a member was up: one ``AVG`` in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class State:
    up: bool
    streak: int  # consecutive probes with the latest outcome
    since: datetime  # when the current up/down state began
    run_start: datetime  # when the current run of same outcomes began

    @classmethod
    def first(cls, minute: datetime, ok: bool) -> State:
        return cls(True, 1, minute, minute)  # a member is up until proven down


def step(
    previous: State | None,
    previous_ok: bool | None,
    ok: bool,
    minute: datetime,
    down_after: int,
    up_after: int,
) -> State:
    """The state after a probe at ``minute`` that was ``ok`` (or not)."""
    if previous is None or previous_ok is None:
        state = State.first(minute, ok)
        return _settle(state, ok, minute, down_after, up_after)
    if ok == previous_ok:
        streak, run_start = previous.streak + 1, previous.run_start
    else:
        streak, run_start = 1, minute
    return _settle(
        State(previous.up, streak, previous.since, run_start), ok, minute, down_after, up_after
    )


def _settle(state: State, ok: bool, minute: datetime, down_after: int, up_after: int) -> State:
    if state.up and not ok and state.streak >= down_after:
        return State(False, state.streak, state.run_start, state.run_start)
    if not state.up and ok and state.streak >= up_after:
        return State(True, state.streak, state.run_start, state.run_start)
    return state
