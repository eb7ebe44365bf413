"""The blameless incident report an alert opens, in the shape mybinder.org's reports take.

Everything the alert carries is untrusted text: table cells are escaped, the alert's own
documentation is quoted (so an unclosed code fence or HTML block ends with the quote) and
HTML comments are defused (so nothing can forge or hide binderops' markers).
"""

from __future__ import annotations

import re
from datetime import datetime

from .alerts import Alert

MARKER = re.compile(r"<!-- binderops:incident (\S+) -->")
TIMELINE_END = "<!-- binderops:timeline -->"
MAX_DOCUMENTATION = 20_000


def closed_marker(alert: Alert) -> str:
    return f"<!-- binderops:closed {alert.incident_id} -->"


def chat_marker(alert: Alert) -> str:
    return f"<!-- binderops:chat {alert.state} -->"


def defuse(text: str) -> str:
    """Text that cannot open or close an HTML comment."""
    return text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")


def cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return defuse(" ".join(text.split())).replace("|", "\\|") or " "


def link(label: str, url: str) -> str:
    """A Markdown link, or the label alone when the URL is not plain http(s)."""
    label = defuse(label).replace("[", "\\[").replace("]", "\\]")
    if not re.fullmatch(r"https?://[^\s<>]+", url):
        return label
    return f"[{label}](<{url}>)"


def quote(text: str) -> str:
    text = defuse(text[:MAX_DOCUMENTATION] + ("…" if len(text) > MAX_DOCUMENTATION else ""))
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "an unknown time"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return f"{hours} h {minutes} min" if hours else f"{minutes} min" if minutes else f"{seconds} s"


def title(alert: Alert) -> str:
    text = f"{alert.policy}: {alert.condition}" if alert.condition else alert.policy
    return (("[test] " if alert.test else "") + " ".join(text.split()))[:250]


def open_row(alert: Alert) -> str:
    return f"| {cell(when(alert.started))} | Alert opened: {cell(alert.condition or alert.policy)} ({link('incident', alert.url)}) |"


def closed_row(alert: Alert) -> str:
    return f"| {cell(when(alert.ended))} | Alert closed after {duration(alert.duration_seconds)} |"


def body(alert: Alert) -> str:
    """A new report; a closing notification that arrives first still opens a full one."""
    facts = [
        f"- **Policy**: {cell(alert.policy)}",
        f"- **Condition**: {cell(alert.condition or 'not given')}",
        f"- **Resource**: {cell(alert.resource or 'not given')}" + (f" · metric {cell(alert.metric)}" if alert.metric else ""),
        f"- **Observed** {cell(alert.observed or '?')} against a threshold of {cell(alert.threshold or '?')}",
        f"- **Started**: {when(alert.started)} · {link('the incident in Cloud Monitoring', alert.url)}",
    ]
    runbooks = [f"- {link(name, url)}" for name, url in alert.links]
    sections = [
        f"<!-- binderops:incident {alert.incident_id} -->",
        "> [!NOTE]",
        "> binderops opened this report from a Cloud Monitoring alert. Fill it in once the incident is over. "
        "Keep it blameless: describe what happened and what the system allowed, not who did what.",
        "",
        "## Summary",
        "",
        defuse(" ".join(alert.summary.split())) or "_The alert carried no summary._",
        "",
        *facts,
        "",
        *(["### What the alert says to do", "", quote(alert.documentation), ""] if alert.documentation.strip() else []),
        "## Impact",
        "",
        "_Who was affected, how, and for how long? (Launch failures, slow builds, a cluster out of rotation…)_",
        "",
        "## Timeline",
        "",
        "All times in UTC.",
        "",
        "| Time | Event |",
        "| --- | --- |",
        open_row(alert),
        TIMELINE_END,
        "",
        *(["Runbooks:", "", *runbooks, ""] if runbooks else []),
        "## Lessons learnt",
        "",
        "### What went well",
        "",
        "- ",
        "",
        "### What went wrong",
        "",
        "- ",
        "",
        "### Where we got lucky",
        "",
        "- ",
        "",
        "## Action items",
        "",
        "### Process",
        "",
        "- [ ] ",
        "",
        "### Documentation",
        "",
        "- [ ] ",
        "",
        "### Technical",
        "",
        "- [ ] ",
        "",
    ]
    return "\n".join(sections)


def with_close(report: str, alert: Alert) -> str:
    """The report with the closing row in its timeline and the closed marker (idempotent)."""
    if closed_marker(alert) in report:
        return report
    row = closed_row(alert)
    if TIMELINE_END in report:
        report = report.replace(TIMELINE_END, f"{row}\n{TIMELINE_END}", 1)
    else:  # someone rewrote the report: add the row at the end rather than lose it
        report = f"{report.rstrip()}\n\n{row}\n"
    return f"{report.rstrip()}\n{closed_marker(alert)}\n"


def close_comment(alert: Alert) -> str:
    return (
        f"{closed_marker(alert)}\nThe alert closed at {when(alert.ended)}, after {duration(alert.duration_seconds)}. "
        "The timeline has the row; this report now needs its write-up (label `postmortem-needed`)."
    )
