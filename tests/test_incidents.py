"""Incident notification: ``notify_incident_http`` and ``notify_incident`` as functions-framework
serves them, GitHub and three chat services answered by checking servers on loopback."""

from __future__ import annotations

import base64
import copy
import json
import re
import time
import uuid
from pathlib import Path

import pytest
from cloudevents.conversion import to_binary
from events import pubsub_event
from fakes.chat import MATRIX_TOKEN, SLACK_PATH, ZULIP_AUTH, FakeChat, webhooks
from fakes.github import TOKEN, FakeGitHub
from fakes.http import RecordingServer, Response
from functions_framework import create_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binderops import instance
from binderops.clients.chat import RateLimit
from binderops.incidents import alerts, reports
from binderops.incidents.notifier import Notifier, chat_notice

ROOT = Path(__file__).resolve().parent.parent
MAIN = str(ROOT / "functions" / "main.py")
FIXTURES = ROOT / "tests" / "fixtures"  # notifications as Cloud Monitoring documents them
INCIDENT_REPO = "jupyterhub/mybinder.org-incidents"
ALERT_TOKEN = "alert-token-abc"
BASIC = "monitoring:s3cret-pass"

OPEN = {
    "version": "1.2",
    "incident": {
        "incident_id": "0.opqiw61fsv7p",
        "scoping_project_id": "binder-prod",
        "scoping_project_number": 12345,
        "url": "https://console.cloud.google.com/monitoring/alerting/incidents/0.opqiw61fsv7p?project=binder-prod",
        "severity": "Warning",
        "started_at": 1795860000,
        "ended_at": None,
        "state": "open",
        "resource_display_name": "ingest_launch",
        "resource": {"type": "cloud_run_revision", "labels": {}},
        "metric": {
            "type": "run.googleapis.com/request_count",
            "displayName": "Request Count",
            "labels": {},
        },
        "policy_name": "Function error rate",
        "condition_name": "5xx responses above 5% for 10 min",
        "threshold_value": "0.05",
        "observed_value": "0.231",
        "documentation": {
            "content": "Check the function's logs first. Runbook below.",
            "mime_type": "text/markdown",
            "subject": "ALERT - Function error rate",
            "links": [
                {"displayName": "Runbook", "url": "https://example.org/runbooks/function-errors"}
            ],
        },
        "summary": "Request Count for binder-prod ingest_launch is above the threshold of 0.05 "
        "with a value of 0.231.",
    },
}


def closed(notification=OPEN, ended=1795863900):
    done = copy.deepcopy(notification)
    done["incident"].update(state="closed", ended_at=ended)
    return done


def opened(incident_id: str, policy="Function error rate"):
    alert = copy.deepcopy(OPEN)
    alert["incident"].update(incident_id=incident_id, policy_name=policy)
    return alert


class Stack:
    def __init__(self, github: FakeGitHub, chat: FakeChat) -> None:
        self.github, self.chat = github, chat
        self.http = create_app("notify_incident_http", MAIN, "http").test_client()
        self.pubsub = create_app("notify_incident", MAIN, "cloudevent").test_client()

    def post(self, notification, token=ALERT_TOKEN, **kwargs):
        body = (
            notification if isinstance(notification, bytes) else json.dumps(notification).encode()
        )
        query = {} if token is None else {"token": token}
        return self.http.post(
            "/", data=body, query_string=query, content_type="application/json", **kwargs
        )

    def publish(self, notification, message_id="m-1"):
        headers, data = to_binary(
            pubsub_event(
                json.dumps(notification).encode(), {}, message_id, topic="monitoring-alerts"
            )
        )
        return self.pubsub.post("/", data=data, headers=headers)

    def reports(self):
        return [i for i in self.github.issues if i["repo"] == INCIDENT_REPO]

    def rows(self):
        warehouse = instance.warehouse()
        return warehouse.query(
            "SELECT incident_id, policy, condition, started, ended, duration_seconds, issue_url "
            "FROM incidents ORDER BY incident_id"
        )


@pytest.fixture
def stack(tmp_path, function_env):
    github, chat = FakeGitHub(), FakeChat()
    with RecordingServer(github) as gh, RecordingServer(chat) as ch:
        github.url = gh.url
        function_env(
            **{
                "BINDEROPS_WAREHOUSE": f"duckdb://{tmp_path / 'w.duckdb'}",
                "BINDEROPS_STATE_DIR": str(tmp_path / "state"),
                "BINDEROPS_GITHUB_TOKEN": TOKEN,
                "BINDEROPS_GITHUB_API_URL": gh.url,
                "BINDEROPS_INCIDENT_REPO": INCIDENT_REPO,
                "BINDEROPS_ALERT_TOKEN": ALERT_TOKEN,
                "BINDEROPS_ALERT_BASIC_AUTH": BASIC,
                "BINDEROPS_CHAT_WEBHOOKS": webhooks(ch.url),
            }
        )
        yield Stack(github, chat)
        assert github.problems == [] and chat.problems == []


def test_an_open_alert_opens_a_blameless_report_and_tells_every_chat(stack):
    response = stack.post(OPEN)
    assert response.status_code == 200
    [issue] = stack.reports()
    assert issue["title"] == "ALERT - Function error rate"  # the policy's documentation.subject
    assert [label["name"] for label in issue["labels"]] == ["incident"]
    assert response.get_json()["issue"] == issue["html_url"]
    body = issue["body"]
    assert reports.MARKER.search(body).group(1) == "0.opqiw61fsv7p"
    for section in (
        "## Summary",
        "## Impact",
        "## Timeline",
        "## Lessons learnt",
        "### What went well",
        "### What went wrong",
        "### Where we got lucky",
        "## Action items",
        "### Process",
        "### Documentation",
        "### Technical",
    ):
        assert f"\n{section}\n" in body
    assert OPEN["incident"]["summary"] in body
    assert (
        "| 2026-11-28 10:00 UTC | Alert opened: 5xx responses above 5% for 10 min ([incident](<https://console.cloud.google.com/"
        in body
    )
    assert "- [Runbook](<https://example.org/runbooks/function-errors>)" in body
    assert "> Check the function's logs first. Runbook below." in body
    for kind in ("zulip", "slack", "matrix"):
        [message] = stack.chat.messages[kind]
        assert (
            "Incident opened: **Function error rate** — 5xx responses above 5% for 10 min"
            in message
        )
        assert issue["html_url"] in message
    assert stack.rows()[0]["issue_url"] == issue["html_url"]


def test_a_redelivered_open_opens_one_report_and_one_notice(stack):
    for _ in range(3):
        assert stack.post(OPEN).status_code == 200
    assert len(stack.reports()) == 1
    assert {k: len(v) for k, v in stack.chat.messages.items()} == {
        "zulip": 1,
        "slack": 1,
        "matrix": 1,
    }
    assert len(stack.rows()) == 1


def test_a_close_comments_adds_the_timeline_row_and_asks_for_the_postmortem(stack):
    stack.post(OPEN)
    for _ in range(2):
        assert stack.post(closed()).status_code == 200
    [issue] = stack.reports()
    [comment] = stack.github.comments[issue["number"]]
    assert "The alert closed at 2026-11-28 11:05 UTC, after 1 h 5 min." in comment["body"]
    assert [label["name"] for label in issue["labels"]] == ["incident", "postmortem-needed"]
    assert issue["state"] == "open"
    rows = re.findall(r"^\| (?!Time|---).*\|$", issue["body"], re.M)
    assert rows[-1] == "| 2026-11-28 11:05 UTC | Alert closed after 1 h 5 min |" and len(rows) == 2
    assert [len(v) for v in stack.chat.messages.values()] == [2, 2, 2]
    assert "Incident closed after 1 h 5 min" in stack.chat.messages["zulip"][1]
    [row] = stack.rows()
    assert (row["duration_seconds"], row["policy"]) == (3900, "Function error rate")


def test_closing_the_issue_is_configurable(stack, function_env):
    function_env(BINDEROPS_INCIDENT_CLOSE_ISSUE="true")
    stack.post(OPEN)
    stack.post(closed())
    assert stack.reports()[0]["state"] == "closed"


def test_a_close_before_its_open_still_makes_a_whole_report(stack):
    assert stack.post(closed()).status_code == 200
    assert stack.post(OPEN).status_code == 200
    [issue] = stack.reports()
    assert "Alert opened:" in issue["body"] and "Alert closed after 1 h 5 min" in issue["body"]
    assert len(stack.github.comments[issue["number"]]) == 1
    assert [label["name"] for label in issue["labels"]] == ["incident", "postmortem-needed"]
    [row] = stack.rows()
    assert row["duration_seconds"] == 3900 and row["ended"] is not None


def test_the_console_test_notification_is_marked_and_holds_no_deploy(stack):
    test = json.loads((FIXTURES / "monitoring-test-notification.json").read_text())
    assert stack.post(test).status_code == 200
    [issue] = stack.reports()
    assert issue["title"] == "[test] projects/12345/alertPolicies/12345: Example condition"
    assert [label["name"] for label in issue["labels"]] == [
        "incident-test"
    ]  # not "incident": deploys are not held
    assert "> Test documentation" in issue["body"]
    assert stack.chat.messages["slack"][0].startswith("[test] 🔥 Incident opened")
    assert stack.rows() == []


def test_the_reference_notification_is_understood(stack):
    alert = alerts.parse((FIXTURES / "monitoring-incident.json").read_bytes())
    assert (alert.incident_id, alert.state, alert.policy, alert.links) == (
        "0.opqiw61fsv7p",
        "open",
        "Function error rate",
        (("Runbook", "https://example.org/runbooks/function-errors"),),
    )


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not json", "not JSON"),
        ({"version": "1.2"}, "no 'incident' object"),
        ({"version": "1.2", "incident": {"state": "open"}}, "no incident_id"),
        (
            {"version": "1.2", "incident": {"incident_id": "x", "state": "acknowledged"}},
            "open or closed",
        ),
    ],
)
def test_a_notification_missing_what_matters_is_refused_clearly(stack, body, reason):
    response = stack.post(body)
    assert response.status_code == 400 and reason in response.get_json()["error"]
    assert (
        stack.publish(body if isinstance(body, dict) else {"x": 1}).status_code == 200
    )  # acknowledged, not retried
    assert stack.reports() == [] and stack.chat.messages["slack"] == []


def test_a_sparse_notification_still_opens_a_report(stack):
    assert (
        stack.post(
            {"version": "1.2", "incident": {"incident_id": "sparse-1", "state": "open"}}
        ).status_code
        == 200
    )
    [issue] = stack.reports()
    assert (
        issue["title"] == "Unnamed alert policy"
        and "_The alert carried no summary._" in issue["body"]
    )


@pytest.mark.parametrize(
    "token, auth",
    [
        ("wrong", None),
        (None, None),
        ("", None),
        (None, ("monitoring", "wrong")),
        (None, ("someone", "s3cret-pass")),
    ],
)
def test_a_wrong_or_missing_token_gets_401(stack, token, auth):
    headers = (
        {"Authorization": "Basic " + base64.b64encode(":".join(auth).encode()).decode()}
        if auth
        else {}
    )
    response = stack.post(OPEN, token=token, headers=headers)
    assert response.status_code == 401
    assert stack.github.served == [] and stack.chat.messages["zulip"] == []


def test_basic_auth_is_accepted(stack):
    headers = {"Authorization": "Basic " + base64.b64encode(BASIC.encode()).decode()}
    assert stack.post(OPEN, token=None, headers=headers).status_code == 200


def test_without_configured_credentials_nothing_is_accepted(stack, function_env):
    function_env(BINDEROPS_ALERT_TOKEN="", BINDEROPS_ALERT_BASIC_AUTH="")
    assert stack.post(OPEN, token="").status_code == 401


def test_chat_down_opens_the_report_and_never_resends_a_post_that_may_have_gone(stack, caplog):
    """A chat webhook answering 503 may have posted the notice, and cannot be asked: Zulip
    and Slack get one POST, never a second (the log says so). Matrix's PUT carries a
    transaction id the homeserver deduplicates, so it is retried until it goes."""
    stack.chat.down = True
    assert stack.post(OPEN).status_code == 503  # Matrix still owes its notice: retry
    assert len(stack.reports()) == 1 and stack.rows() != []
    assert sum(SLACK_PATH in path for path in stack.chat.refused) == 1
    assert stack.chat.refused.count("/api/v1/messages") == 1
    assert "cannot be asked what it posted, so it is not resent" in caplog.text
    stack.chat.down = False
    assert stack.post(OPEN).status_code == 200
    assert stack.post(OPEN).status_code == 200
    assert len(stack.reports()) == 1
    assert {kind: len(sent) for kind, sent in stack.chat.messages.items()} == {
        "zulip": 0,
        "slack": 0,
        "matrix": 1,
    }
    assert reports.chat_marker(alerts.parse(OPEN)) in stack.reports()[0]["body"]


def test_github_rate_limited_still_notifies_chat_and_a_retry_opens_the_report_once(stack):
    limited = Response(
        403,
        {"message": "API rate limit exceeded"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9999999999"},
    )
    stack.github.faults = [limited]
    response = stack.publish(OPEN)
    assert response.status_code == 500  # raised: Pub/Sub redelivers
    assert stack.reports() == [] and len(stack.chat.messages["zulip"]) == 1
    assert stack.publish(OPEN).status_code == 200
    assert len(stack.reports()) == 1
    assert [len(v) for v in stack.chat.messages.values()] == [1, 1, 1]  # not repeated
    assert len(stack.rows()) == 1


def test_a_flapping_policy_cannot_flood_chat(stack):
    for n in range(20):
        assert stack.post(opened(f"flap-{n}")).status_code == 200
    assert len(stack.reports()) == 20  # every incident still gets its report
    assert [len(v) for v in stack.chat.messages.values()] == [4, 4, 4]
    assert stack.post(opened("other-policy-1", policy="Dead letters piling up")).status_code == 200
    assert [len(v) for v in stack.chat.messages.values()] == [5, 5, 5]


def test_the_rate_limit_refills_one_a_minute_and_counts_what_it_held_back():
    now = [0.0]
    limit = RateLimit(burst=4, interval=60, clock=lambda: now[0])
    assert [limit.take("p")[0] for _ in range(6)] == [True] * 4 + [False] * 2
    now[0] = 59
    assert limit.take("p") == (False, 0)
    now[0] = 60 + 59
    assert limit.take("p") == (True, 3)
    notice = chat_notice(alerts.parse(opened("x")), None, held=3)
    assert "(3 earlier notices for this policy held back by the rate limit)" in notice.text


def test_documentation_markdown_cannot_break_the_report(stack):
    hostile = opened("md-1")
    hostile["incident"]["documentation"]["content"] = (
        "## Impact\nStep 1 | do this\n```bash\nkubectl get pods\n<!-- binderops:incident other-id "
        "-->\n<details><summary>more"
    )
    hostile["incident"]["condition_name"] = "a | b --> c"
    stack.post(hostile)
    stack.post(closed(hostile))
    [issue] = stack.reports()
    body = issue["body"]
    assert reports.MARKER.findall(body) == ["md-1"]
    assert re.findall(
        r"<!--.*?-->", body, re.S
    ) == [  # only ours: nothing opened or closed a comment
        "<!-- binderops:incident md-1 -->",
        "<!-- binderops:timeline -->",
        "<!-- binderops:chat open -->",
        "<!-- binderops:closed md-1 -->",
        "<!-- binderops:chat closed -->",
    ]
    quoted = body.split("### What the alert says to do\n\n")[1].split("\n\n## Impact")[0]
    assert all(
        line.startswith(">") for line in quoted.splitlines()
    )  # the open fence ends with the quote
    assert body.count("\n## Impact\n") == 1
    table = (
        body.split("| Time | Event |\n| --- | --- |\n")[1]
        .split("\n<!-- binderops:timeline -->")[0]
        .splitlines()
    )
    assert len(table) == 2 and all(
        len(re.split(r"(?<!\\)\|", row)) == 4 for row in table
    )  # two cells
    assert "a \\| b --&gt; c" in table[0]


def test_the_pubsub_channel_opens_and_closes_the_same_way(stack):
    assert stack.publish(OPEN, "m-1").status_code == 200
    assert stack.publish(OPEN, "m-1").status_code == 200
    assert stack.publish(closed(), "m-2").status_code == 200
    [issue] = stack.reports()
    assert "postmortem-needed" in [label["name"] for label in issue["labels"]]
    assert [len(v) for v in stack.chat.messages.values()] == [2, 2, 2]


def test_without_a_github_token_reports_are_written_to_a_local_folder(
    stack, function_env, tmp_path
):
    function_env(BINDEROPS_GITHUB_TOKEN="")
    stack.post(OPEN)
    stack.post(closed())
    folder = tmp_path / "state" / "incidents"
    text = (folder / "1.md").read_text()
    assert text.startswith("# ALERT - Function error rate")
    assert "Alert closed after 1 h 5 min" in text and "postmortem-needed" in text
    assert stack.github.served == []
    assert stack.rows()[0]["issue_url"] == (folder / "1.md").resolve().as_uri()


def test_secrets_never_reach_responses_or_logs(stack, caplog):
    # INFO for every logger: what a function logs. (urllib3's DEBUG log prints request paths,
    # and a Slack webhook's path is its secret: the README says not to turn that on.)
    stack.chat.down = True
    with caplog.at_level("INFO"):
        bodies = [
            stack.post(OPEN).get_data(as_text=True),
            stack.post(OPEN, token="nope").get_data(as_text=True),
        ]
    text = caplog.text + "".join(bodies) + repr(instance.settings())
    for secret in (
        TOKEN,
        ALERT_TOKEN,
        "s3cret-pass",
        ZULIP_AUTH[1],
        MATRIX_TOKEN,
        SLACK_PATH.rsplit("/", 1)[1],
    ):
        assert secret not in text


def test_issues_are_found_by_marker_among_many(stack):
    stack.github.page_size = 5
    for n in range(12):
        issue = stack.github.add_issue(
            INCIDENT_REPO, f"old {n}", ["incident"], "2026-11-28T09:00:00Z"
        )
        issue["body"] = f"<!-- binderops:incident older-{n} -->"
    stack.post(OPEN)
    target = stack.reports()[-1]
    for n in range(3):
        stack.github.add_issue(INCIDENT_REPO, f"newer {n}", ["incident"], "2026-11-28T10:30:00Z")
    stack.post(closed())
    assert len(stack.reports()) == 16
    assert "postmortem-needed" in [label["name"] for label in target["labels"]]


def test_notifier_without_any_sink_or_repo_only_records(warehouse):
    notifier = Notifier(None, "", [], RateLimit(), warehouse)
    result = notifier.handle(alerts.parse(OPEN))
    assert result["recorded"] and result["issue"] is None
    assert warehouse.query("SELECT incident_id FROM incidents") == [
        {"incident_id": "0.opqiw61fsv7p"}
    ]


def test_a_refusal_is_logged_once_not_retried_forever(stack, caplog):
    stack.github.missing_repos.add(INCIDENT_REPO)
    assert stack.publish(OPEN).status_code == 200  # acknowledged: a 404 would be refused again
    assert f"GitHub GET /repos/{INCIDENT_REPO}/issues: HTTP 404: Not Found" in caplog.text
    assert [len(v) for v in stack.chat.messages.values()] == [1, 1, 1]
    assert stack.rows()[0]["issue_url"] is None


# Hostile alert text: nothing forges a marker, mentions anyone or makes a link
HOSTILE = {
    "policy_name": "Disk @jupyterhub/operators @**all** @room",
    "condition_name": "<!channel> <!here> <https://evil.example|click me> [x](https://evil.example)",
    "summary": "![pixel](https://evil.example/p.png) <img src=https://evil.example/i.png> @someone",
}


@pytest.mark.parametrize("incident_id", ["0.a --> <b>@x</b>", "id with spaces", "x <!-- y"])
def test_an_odd_incident_id_cannot_forge_a_marker_and_finds_its_own_report(stack, incident_id):
    notification = opened(incident_id)
    assert stack.post(notification).status_code == 200
    assert stack.post(notification).status_code == 200  # a redelivery finds the same report
    assert stack.post(closed(notification)).status_code == 200
    [issue] = stack.reports()
    body = issue["body"]
    comments = re.findall(r"<!--.*?-->", body, re.S)
    assert all(re.fullmatch(r"<!-- binderops:[a-z]+( \S+)? -->", c) for c in comments), comments
    assert reports.MARKER.findall(body) == [reports.marker_id(incident_id)]


def test_alert_text_mentions_nobody_and_links_nothing_in_reports_or_chat(stack):
    notification = opened("hostile-1")
    notification["incident"].update(HOSTILE)
    notification["incident"]["documentation"]["subject"] = ""
    assert stack.post(notification).status_code == 200
    [issue] = stack.reports()
    assert not re.search(r"@(?=[\w*])", issue["title"])  # plain text, but mentions notify
    texts = [issue["body"], *(m for ms in stack.chat.messages.values() for m in ms)]
    for text in texts:
        assert not re.search(r"@(?=[\w*])", text), text  # @team, @**all**, @room: no mention
        assert "<!channel>" not in text and "<!here>" not in text and "<img" not in text
        assert not re.search(r"(?<!\\)\]\(https://evil", text), text  # no live link or image
        assert "|click me>" not in text
    live_links = re.findall(r"(?<!\\)\]\((<?https?://[^)]+)\)", issue["body"])
    assert live_links and not any("evil.example" in url for url in live_links)


def test_the_report_and_the_notice_carry_the_severity(stack):
    assert stack.post(opened("sev-1")).status_code == 200
    [issue] = stack.reports()
    assert "severity **Warning**" in issue["body"]
    assert all("(Warning)" in messages[0] for messages in stack.chat.messages.values())


def test_a_slow_github_that_created_the_report_gets_no_second_one(warehouse):
    """GitHub creates the issue but answers after the client gave up: binderops looks for the
    report by its marker before sending anything again, and opens no second one."""
    from fakes.github import TOKEN, FakeGitHub
    from fakes.http import RecordingServer

    from binderops.clients.github import GitHub
    from binderops.clients.http import RetryPolicy

    fake = FakeGitHub()
    fake.slow_creates = [0.5]
    with RecordingServer(fake) as server:
        fake.url = server.url
        github = GitHub(
            server.url, TOKEN, RetryPolicy(attempts=3, timeout=(1.0, 0.2), backoff=0.01)
        )
        notifier = Notifier(github, INCIDENT_REPO, [], RateLimit(), warehouse)
        alert = alerts.parse(opened("slow-1"))
        first = notifier.handle(alert)  # it looks, finds the report it made, sends no other
        time.sleep(0.6)
        again = notifier.handle(alert)  # the redelivery
    assert len(fake.issues) == 1
    assert first["issue"] == again["issue"] == fake.issues[0]["html_url"]
    assert [r.method for r in server.requests].count("POST") == 1


# Defusing, judged by GitHub's own Markdown parser (cmark-gfm, with its autolink extension)
PIECES = [
    *"[]()!<>\\`*_@#:/.|&;\"' \n",
    "https://evil.example/x",
    "HTTP://EVIL.EXAMPLE",
    "www.evil.example",
    "ftp://evil.example",
    "mailto:a@evil.example",
    "someone@evil.example",
    "@octocat",
    "@**all**",
    "<!-- ",
    "-->",
    "\\[",
    "![",
    "](",
    "[x]: https://evil.example",
    "<https://evil.example>",
]
HOSTILE_TEXT = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)


def rendered_links(markdown: str) -> tuple[list[str], str]:
    """The link and image targets GitHub would render in ``markdown``, and its text."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    targets = re.findall(r'<a href="([^"]*)"', html) + re.findall(r'<img src="([^"]*)"', html)
    return targets, re.sub(r"<[^>]+>", "", html)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.fixed_dictionaries(
        {k: HOSTILE_TEXT for k in ("policy", "condition", "summary", "docs", "observed")}
    )
)
def test_rendered_reports_comments_and_chat_hold_only_the_links_the_template_put(
    stack, function_env, fields
):
    function_env(BINDEROPS_CHAT_BURST="100000")  # every example's notice goes out
    incident_id = f"render-{uuid.uuid4()}"
    notification = opened(incident_id, policy=fields["policy"] or "p")
    notification["incident"].update(
        condition_name=fields["condition"],
        summary=fields["summary"],
        observed_value=fields["observed"],
    )
    notification["incident"]["documentation"].update(content=fields["docs"], subject="")
    before = {kind: len(messages) for kind, messages in stack.chat.messages.items()}
    assert stack.post(notification).status_code == 200
    assert stack.post(closed(notification)).status_code == 200
    [issue] = [i for i in stack.reports() if reports.marker_id(incident_id) in i["body"]]
    placed = {OPEN["incident"]["url"], "https://example.org/runbooks/function-errors"}
    texts = [issue["body"], *(c["body"] for c in stack.github.comments[issue["number"]])]
    for kind in ("zulip", "matrix"):
        texts += stack.chat.messages[kind][before[kind] :]
    for text in texts:
        targets, words = rendered_links(text)
        assert set(targets) <= placed | {issue["html_url"]}, (targets, text)
        assert not re.search(r"@(?=[\w*])", text), text  # @team, @**all**, @room: no mention
        assert not re.search(
            r"(?i)(?:https?|ftp)://\w|\bwww\.\w",
            words.replace(OPEN["incident"]["url"], "")
            .replace("https://example.org/runbooks/function-errors", "")
            .replace(issue["html_url"], ""),
        ), words
    for text in stack.chat.messages["slack"][before["slack"] :]:
        angled = re.findall(r"<([^>]*)>", text)
        assert {a.split("|")[0] for a in angled} <= placed | {issue["html_url"]}, text


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_report_created_but_answered_with_a_5xx_is_looked_for_not_created_again(stack, status):
    """One alert, one report, one notice per chat: GitHub made the issue, then answered 5xx."""
    stack.github.errors_after_create = [status]
    assert stack.post(OPEN).status_code == 200
    assert stack.post(OPEN).status_code == 200  # and a redelivery
    assert len(stack.reports()) == 1
    assert [len(v) for v in stack.chat.messages.values()] == [1, 1, 1]
    posts = [path for method, path in stack.github.served if method == "POST"]
    assert posts == [f"/repos/{INCIDENT_REPO}/issues"]


# The seam other capabilities raise incidents through (freshness now, federation next)
def test_an_incident_raised_twice_and_resolved_opens_one_report_and_one_notice_each_way(stack):
    from datetime import UTC, datetime

    from binderops.incidents.seam import Incident, Notifying

    raiser = Notifying(instance.notifier())
    started = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    incident = Incident(
        incident_id="federation-gesis-down-2026-03-10T08:00",
        policy="Federation member down",
        condition="gesis: /health failed 3 times",
        summary="gesis.mybinder.org answered 503 to three probes in a row.",
        started=started,
        resource="gesis",
    )
    raiser.open(incident)
    raiser.open(incident)  # a redelivered tick
    raiser.close(incident, datetime(2026, 3, 10, 8, 42, tzinfo=UTC))
    raiser.close(incident, datetime(2026, 3, 10, 8, 42, tzinfo=UTC))
    [report] = stack.reports()
    assert report["title"] == "ALERT - Federation member down"
    assert "Alert closed after 42 min" in report["body"]
    assert [len(sent) for sent in stack.chat.messages.values()] == [2, 2, 2]  # open, closed
    [row] = [r for r in stack.rows() if r["incident_id"] == incident.incident_id]
    assert row["duration_seconds"] == 42 * 60 and row["issue_url"] == report["html_url"]
