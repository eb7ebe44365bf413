"""The GitHub client over real HTTP: headers, retries with backoff, rate limits, errors."""

from __future__ import annotations

import time

import pytest
from fakes.github import TOKEN, FakeGitHub
from fakes.http import RecordingServer, Response

from binderops.clients.github import GitHub
from binderops.clients.http import QUICK, Rejected, RetryPolicy, Unavailable

REPO = "o/r"
FAST = RetryPolicy(attempts=3, timeout=(2, 5), backoff=0.01, max_wait=5)


@pytest.fixture
def github():
    fake = FakeGitHub()
    with RecordingServer(fake) as server:
        fake.url = server.url
        yield fake, server, GitHub(server.url, TOKEN, FAST)
    assert fake.problems == []


def test_every_request_carries_the_headers_github_asks_for(github):
    _fake, server, client = github
    client.create_issue(REPO, "t", "b", ["incident"])
    [request] = server.requests
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["user-agent"] == "binderops"
    assert request.json() == {"title": "t", "body": "b", "labels": ["incident"]}


def test_server_errors_are_retried_with_backoff(github):
    fake, server, client = github
    fake.pulls[(REPO, 7)] = {"number": 7}
    fake.faults = [Response(502, {"message": "Bad gateway"}), Response(500, None)]
    assert client.pull(REPO, 7)["number"] == 7
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_create_answered_with_a_5xx_is_not_resent_but_reported_as_maybe_done(github, status):
    """The service may have made it before failing to answer: resending could make two."""
    fake, server, client = github
    fake.errors_after_create = [status]
    with pytest.raises(Unavailable) as raised:
        client.create_issue(REPO, "t", "b", [])
    assert raised.value.maybe_done and "not resent" in str(raised.value)
    assert len(server.requests) == 1 and len(fake.issues) == 1


def test_a_create_refused_by_the_rate_limit_is_retried(github):
    """A 429 says the request was not taken on: sending it again cannot make two."""
    fake, server, client = github
    fake.faults = [Response(429, {"message": "slow down"}, {"Retry-After": "0"})]
    assert client.create_issue(REPO, "t", "b", [])["number"] == 1
    assert len(server.requests) == 2 and len(fake.issues) == 1


def test_retry_after_is_honoured(github):
    fake, server, client = github
    fake.faults = [
        Response(403, {"message": "You have exceeded a secondary rate limit"}, {"Retry-After": "1"})
    ]
    started = time.monotonic()
    client.open_issues(REPO, "incident")
    assert time.monotonic() - started >= 1.0
    assert len(server.requests) == 2


def test_the_rate_limit_reset_time_is_honoured(github):
    fake, _server, client = github
    reset = str(int(time.time()) + 1)
    fake.faults = [
        Response(
            429,
            {"message": "API rate limit exceeded"},
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        )
    ]
    started = time.monotonic()
    client.open_issues(REPO, "incident")
    assert time.monotonic() - started >= 0.9


def test_a_wait_longer_than_the_policy_allows_gives_up_at_once_as_unavailable(github):
    fake, server, _client = github
    reset = str(int(time.time()) + 3600)
    fake.faults = [
        Response(
            403,
            {"message": "API rate limit exceeded"},
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        )
    ]
    quick = GitHub(server.url, TOKEN, QUICK)
    with pytest.raises(Unavailable, match="API rate limit exceeded"):
        quick.open_issues(REPO, "incident")
    assert len(server.requests) == 1


def test_a_refusal_is_not_retried_and_names_the_call_but_not_the_token(github):
    fake, server, client = github
    with pytest.raises(Rejected) as raised:
        client.pull(REPO, 404)
    assert raised.value.status == 404
    assert str(raised.value) == "GitHub GET /repos/o/r/pulls/404: HTTP 404: no such pull request"
    assert TOKEN not in str(raised.value) and len(server.requests) == 1
    fake.problems.clear()


def test_a_plain_403_is_a_refusal_not_a_rate_limit(github):
    fake, _server, client = github
    fake.faults = [
        Response(
            403,
            {"message": "Resource not accessible by integration"},
            {"X-RateLimit-Remaining": "4999"},
        )
    ]
    with pytest.raises(Rejected, match="not accessible"):
        client.open_issues(REPO, "incident")


def test_an_unreachable_server_is_unavailable_after_the_attempts():
    client = GitHub("http://127.0.0.1:9", TOKEN, FAST)  # discard port: nothing listens
    with pytest.raises(Unavailable, match=r"ConnectionError \(after 3 attempts\)"):
        client.open_issues(REPO, "incident")


def test_list_endpoints_follow_link_headers(github):
    fake, server, client = github
    fake.page_size = 2
    for n in range(5):
        fake.add_issue(REPO, f"incident {n}", ["incident"])
    assert [i["title"] for i in client.issues(REPO, "incident")] == [
        f"incident {n}" for n in reversed(range(5))
    ]
    assert len(server.requests) == 3


# No secret in any error, whatever requests raises
@pytest.mark.parametrize(
    "url, kind",
    [
        ("http://exa mple.org/services/T0/B0/SECRET-abc", "InvalidURL"),
        ("gopher://example.org/SECRET-abc", "InvalidSchema"),
        ("hooks.slack.com/services/T0/B0/SECRET-abc", "MissingSchema"),
        ("http://127.0.0.1:1/services/SECRET-abc?token=SECRET-abc", "ConnectionError"),
    ],
)
def test_no_error_carries_the_url_whatever_requests_raises(url, kind):
    import traceback

    import requests

    from binderops.clients.http import call

    with pytest.raises((Rejected, Unavailable)) as raised:
        call(requests.Session(), "POST", url, "Slack webhook (slack:example)", QUICK, json={})
    shown = "".join(traceback.format_exception(raised.value))
    assert kind in str(raised.value)
    assert "SECRET" not in shown
    assert raised.value.__cause__ is None
    if isinstance(raised.value, Rejected):
        assert raised.value.__context__ is None or raised.value.__suppress_context__


@pytest.mark.parametrize(
    "entry, says",
    [
        ("slack=hooks.slack.com/services/T0/B0/SECRET", "must be https://HOST"),
        ("slack=https://hooks.slack.com/services/T0/B0/SECRET with-space", "white space"),
        ("slack=https://hooks.slack.com:notaport/SECRET", "cannot be read"),
        ("zulip=https://zulip.example.org/api/v1/messages?SECRET", "e-mail and API key"),
    ],
)
def test_chat_urls_are_checked_when_settings_are_read_and_never_quoted(entry, says):
    from binderops.core import config
    from binderops.core.errors import ConfigError
    from binderops.incidents.settings import IncidentSettings

    with pytest.raises(ConfigError) as raised:
        config.read(IncidentSettings, {"BINDEROPS_CHAT_WEBHOOKS": f"file=/tmp/chat.jsonl,{entry}"})
    assert says in str(raised.value) and "entry 2" in str(raised.value)
    assert "SECRET" not in str(raised.value) and "hooks.slack.com" not in str(raised.value)


# A request that creates something is never resent blindly
def slow_server(delay: float):
    """Answers every request after ``delay`` seconds, having done what it asked."""
    done = []

    def handler(request):
        done.append(request.method)
        time.sleep(delay)
        return Response(201 if request.method == "POST" else 200, {"number": len(done)})

    return done, handler


SHORT = RetryPolicy(attempts=3, timeout=(1.0, 0.2), backoff=0.01, max_wait=5)


def test_a_create_that_timed_out_is_not_resent_but_reported_as_maybe_done():
    done, handler = slow_server(0.5)
    with RecordingServer(handler) as server:
        client = GitHub(server.url, TOKEN, SHORT)
        with pytest.raises(Unavailable) as raised:
            client.create_issue(REPO, "Launch failures", "body", ["incident"])
        time.sleep(0.6)  # let the slow answer finish
    assert done == ["POST"]  # one issue, not three
    assert raised.value.maybe_done and "not resent" in str(raised.value)


def test_a_read_that_timed_out_is_retried():
    done, handler = slow_server(0.5)
    with RecordingServer(handler) as server:
        with pytest.raises(Unavailable) as raised:
            GitHub(server.url, TOKEN, SHORT).pull(REPO, 7)
        time.sleep(0.6)
    assert done == ["GET"] * 3 and not raised.value.maybe_done


def test_a_create_that_never_reached_the_service_is_resent(unused_port):
    with pytest.raises(Unavailable) as raised:
        GitHub(f"http://127.0.0.1:{unused_port}", TOKEN, SHORT).create_issue(REPO, "t", "b", [])
    assert "after 3 attempts" in str(raised.value) and not raised.value.maybe_done
