"""The blameless incident report an alert opens, in the shape mybinder.org's reports take.

Everything the alert carries is untrusted text: table cells are escaped, the alert's own
documentation is quoted (so an unclosed code fence or HTML block ends with the quote) and
HTML comments are defused (so nothing can forge or hide binderops' markers).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from urllib.parse import quote as percent_encoded

from ..core.templates import render
from .alerts import Alert

TEMPLATES = Path(__file__).resolve().parent / "templates"
MARKER = re.compile(r"<!-- binderops:incident (\S+) -->")
# Mentions GitHub, Zulip and Matrix notify on: @user, @org/team, @**all**, @*group*, @room.
# Every @ is broken, not only one followed by a name: a template may put the name after it
# (an alert policy "@" drawn in bold reads "**@**", Zulip's mention syntax).
_MENTION = re.compile("@(?!\u200b)")
ZERO_WIDTH_SPACE = "\u200b"
# Where GFM's extended autolinks start: a scheme's "//" (https://, ftp://) or "www.".
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)")
TIMELINE_END = "<!-- binderops:timeline -->"
MAX_DOCUMENTATION = 20_000


def plain_url(url: str) -> bool:
    """An http(s) URL with nothing in it that could end a Markdown or Slack link early."""
    return bool(re.fullmatch(r"https?://[^\s<>|()\[\]]+", url))


def marker_id(incident_id: str) -> str:
    """The incident id as markers carry it: percent-encoded, so that no id can close the
    comment (``-->``), hold a space (which the marker pattern would not find again) or
    forge another marker. Ids of the usual shape (``0.opqiw61fsv7p``) read the same."""
    return percent_encoded(incident_id, safe="")


def incident_marker(alert: Alert) -> str:
    return f"<!-- binderops:incident {marker_id(alert.incident_id)} -->"


def closed_marker(alert: Alert) -> str:
    return f"<!-- binderops:closed {marker_id(alert.incident_id)} -->"


def chat_marker(alert: Alert) -> str:
    return f"<!-- binderops:chat {alert.state} -->"


def defuse(text: str) -> str:
    """Outside text made inert for GitHub and chat: it cannot open or close an HTML comment
    or a tag, mention anyone (``@team``, ``@**all**``, ``@room``), or make a link or image.

    Backslashes are escaped first, or a ``\\[`` sent would cancel the escape added to its
    bracket. GFM links bare URLs and ``www.`` names by itself (as Slack and Zulip do): a
    zero-width space after the scheme's colon and after ``www`` stops that, and reads the
    same. The tests render the result with GitHub's own parser (cmark-gfm) to hold it."""
    text = text.replace("\\", "\\\\")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _AUTOLINK.sub(ZERO_WIDTH_SPACE, text)
    return no_mentions(text).replace("[", "\\[").replace("]", "\\]")


def no_mentions(text: str) -> str:
    """``@`` followed by a zero-width space: it reads the same and notifies nobody."""
    return _MENTION.sub("@" + ZERO_WIDTH_SPACE, text)


def cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return defuse(" ".join(text.split())).replace("|", "\\|") or " "


def link(label: str, url: str) -> str:
    """A Markdown link, or the label alone when the URL is not plain http(s)."""
    label = defuse(label)
    if not plain_url(url):
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
    """The policy's ``documentation.subject`` when it sets one, else "POLICY: CONDITION"."""
    if alert.subject.strip():
        text = alert.subject
    elif alert.condition:
        text = f"{alert.policy}: {alert.condition}"
    else:
        text = alert.policy
    # A title is plain text on GitHub (no markup to defuse), but mentions there still notify.
    return (("[test] " if alert.test else "") + no_mentions(" ".join(text.split())))[:250]


def open_row(alert: Alert) -> str:
    what = cell(alert.condition or alert.policy)
    return f"| {cell(when(alert.started))} | Alert opened: {what} ({link('incident', alert.url)}) |"


def closed_row(alert: Alert) -> str:
    return f"| {cell(when(alert.ended))} | Alert closed after {duration(alert.duration_seconds)} |"


def body(alert: Alert) -> str:
    """A new report from ``templates/incident-report.md``; a closing notification that
    arrives first still opens a full one."""
    facts = [
        f"- **Policy**: {cell(alert.policy)}"
        + (f" · severity **{cell(alert.severity)}**" if alert.severity else ""),
        f"- **Condition**: {cell(alert.condition or 'not given')}",
        f"- **Resource**: {cell(alert.resource or 'not given')}"
        + (f" · metric {cell(alert.metric)}" if alert.metric else ""),
        f"- **Observed** {cell(alert.observed or '?')} against a threshold of {cell(alert.threshold or '?')}",
        f"- **Started**: {when(alert.started)} · {link('the incident in Cloud Monitoring', alert.url)}",
    ]
    documentation = ""
    if alert.documentation.strip():
        documentation = f"### What the alert says to do\n\n{quote(alert.documentation)}\n\n"
    runbooks = ""
    if alert.links:
        runbooks = (
            "Runbooks:\n\n" + "".join(f"- {link(name, url)}\n" for name, url in alert.links) + "\n"
        )
    return render(
        TEMPLATES,
        "incident-report.md",
        marker=incident_marker(alert),
        summary=defuse(" ".join(alert.summary.split())) or "_The alert carried no summary._",
        facts="\n".join(facts),
        documentation=documentation,
        open_row=open_row(alert),
        timeline_end=TIMELINE_END,
        runbooks=runbooks,
    )


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
        f"{closed_marker(alert)}\nThe alert closed at {when(alert.ended)}, after "
        f"{duration(alert.duration_seconds)}. "
        "The timeline has the row; this report now needs its write-up (label `postmortem-needed`)."
    )
