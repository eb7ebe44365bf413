"""Thin HTTP clients for the services binderops talks to: each call timed out, retried
with backoff on what is worth retrying, and failing with one of two errors.

``Unavailable`` means "try again later" (the function raises so the platform retries);
``Rejected`` means the service refused the request and retrying will not help. Neither
message ever carries a URL's query, a header or a body: those may hold secrets.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlparse

import requests

from ..core.errors import Drop, Retry

log = logging.getLogger("binderops.clients")

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
T = TypeVar("T")


def google_endpoint(api_url: str) -> tuple[object | None, dict]:
    """``credentials`` and ``client_options`` for a google-cloud client aimed at ``api_url``
    (Google's own endpoint and ADC when empty). A loopback endpoint — an emulator or a test
    server — gets anonymous credentials: there is nobody to authenticate to."""
    if not api_url:
        return None, {}
    if urlparse(api_url).hostname in LOOPBACK_HOSTS:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), {"api_endpoint": api_url}
    return None, {"api_endpoint": api_url}


class Unavailable(Retry):
    """The service did not answer usefully (timeout, 5xx, rate limit): retry later.

    ``maybe_done`` says the request may have been carried out all the same (it reached the
    service, which did not answer in time): whoever retries must first look for what it
    would have created.
    """

    kind = "service_unavailable"

    def __init__(self, message: str, maybe_done: bool = False) -> None:
        super().__init__(message)
        self.maybe_done = maybe_done


# Requests that create something: never resent once they may have reached the service.
CREATES = {"POST"}


class Rejected(Drop):
    """The service refused the request (a 4xx that is not a rate limit)."""

    kind = "refused"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries. A webhook must answer within seconds; a Pub/Sub
    function can wait longer, and beyond ``max_wait`` it is better to let Pub/Sub
    redeliver later than to hold the instance."""

    attempts: int = 3
    timeout: tuple[float, float] = (3.05, 10.0)
    backoff: float = 0.5
    max_wait: float = 30.0


QUICK = RetryPolicy(attempts=2, timeout=(2.0, 4.0), backoff=0.2, max_wait=1.0)
PATIENT = RetryPolicy()


def default_wait(response: requests.Response, backoff: float) -> float | None:
    """Seconds to wait before retrying ``response``, or None when retrying cannot help."""
    if response.status_code == 429 or response.status_code >= 500:
        return retry_after(response) or backoff
    return None


def retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def reason(response: requests.Response) -> str:
    """A short, secret-free account of an error response: its status and the service's message."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = ""
    if isinstance(body, dict):
        error = body.get("error")
        message = (
            body.get("message")
            or (error.get("message") if isinstance(error, dict) else error)
            or ""
        )
    return f"HTTP {response.status_code}" + (f": {str(message)[:200]}" if message else "")


def call(
    session: requests.Session,
    method: str,
    url: str,
    what: str,
    policy: RetryPolicy,
    wait_for: Callable[[requests.Response, float], float | None] = default_wait,
    *,
    idempotent: bool = False,
    accept: Container[int] = (),
    **kwargs,
) -> requests.Response:
    """``session.request`` with timeouts and retries; ``what`` names the call in errors and logs.
    ``idempotent``: the receiver makes nothing twice however often a POST reaches it (it
    finds what the first one made), so a POST is retried like a read. ``accept``: error
    statuses that are an answer, returned as they are (a health check's 503)."""
    creates = method in CREATES and not idempotent
    for attempt in range(1, policy.attempts + 1):
        backoff = policy.backoff * 2 ** (attempt - 1) * (1 + random.random() / 4)
        try:
            response = session.request(method, url, timeout=policy.timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as e:
            # str(e) would repeat the URL, which may carry a token: name the type only.
            problem, wait = f"{type(e).__name__}", backoff
            if creates and not _never_arrived(e):
                # A slow service may have created it: resending blindly could make two
                # (two incident reports, two builds). The caller's next attempt looks first.
                raise Unavailable(
                    f"{what}: {problem}; not resent, it may have been done", True
                ) from None
        except requests.RequestException as e:
            # InvalidURL, InvalidSchema, MissingSchema…: the URL itself is wrong, and every
            # one of these messages quotes it. Retrying cannot help; the cause is not chained.
            raise Rejected(f"{what}: {type(e).__name__} (check the configured URL)", 0) from None
        else:
            if response.status_code < 400 or response.status_code in accept:
                return response
            wait = wait_for(response, backoff)
            if wait is None:
                raise Rejected(f"{what}: {reason(response)}", response.status_code)
            problem = reason(response)
            if creates and response.status_code >= 500:
                # A 5xx may come after the work was done (a Cloud Build queued, an issue
                # made): never resent blindly. A 429 is a refusal to start, and is retried.
                raise Unavailable(f"{what}: {problem}; not resent, it may have been done", True)
        if attempt == policy.attempts or wait > policy.max_wait:
            raise Unavailable(f"{what}: {problem} (after {attempt} attempt{'s' * (attempt > 1)})")
        log.info("%s: %s; retrying in %.1f s", what, problem, wait)
        time.sleep(wait)
    raise AssertionError("unreachable")


def create_once(create: Callable[[], T], find: Callable[[], T | None], what: str) -> T:
    """Make something with ``create``, a request that is never resent blindly. When it may
    have been carried out all the same (a 5xx, a cut connection), ``find`` looks for what it
    would have made (an issue's marker, a build's tags) first: found, that is the answer;
    not found, it is sent once more. Still unanswered, the error goes up, and the caller's
    retry looks again before anything else."""
    try:
        return create()
    except Unavailable as e:
        if not e.maybe_done:
            raise
        found = find()
        if found is not None:
            log.warning("%s: %s; found what it made, so it is not sent again", what, e)
            return found
        log.warning("%s: %s; looked, found nothing it made, so it is sent once more", what, e)
        return create()


def _never_arrived(error: requests.RequestException) -> bool:
    """True when the request provably never reached the service (no connection was made)."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))
