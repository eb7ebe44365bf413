"""What ``terraform/`` declares, read with an HCL parser (python-hcl2), for tests that hold
it against the code: functions and their triggers, schedulers, tables, variables, secrets.

python-hcl2 leaves an expression as text (``${merge(local.a, {…})}``). The few shapes this
configuration uses are evaluated here: ``merge(…)`` of ``local.NAME`` references and object
literals, ``{ for … in {…} : … }`` over a literal (its filter is ignored: what is declared
at all counts), ``COND ? {…} : {…}`` (both branches), and ``local.NAME``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2


def _split_arguments(text: str) -> list[str]:
    """Top-level comma-separated arguments of a call's text, quotes and brackets respected."""
    parts, depth, quote, current = [], 0, False, []
    for i, char in enumerate(text):
        if char == '"' and text[i - 1] != "\\":
            quote = not quote
        elif not quote and char in "({[":
            depth += 1
        elif not quote and char in ")}]":
            depth -= 1
        if char == "," and depth == 0 and not quote:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def unquote(value: Any) -> Any:
    """A string literal's text (python-hcl2 keeps its quotes); anything else as it is."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _object(text: str) -> dict:
    """An HCL object literal's text as a dict (with python-hcl2's own conventions)."""
    return hcl2.loads(f"value = {text}\n")["value"]


@dataclass
class Terraform:
    folder: Path
    locals: dict[str, Any]
    resources: dict[str, dict[str, dict]]  # type → name → body
    variables: dict[str, dict]

    @classmethod
    def read(cls, folder: Path) -> Terraform:
        locals_, resources, variables = {}, {}, {}
        for path in sorted(folder.glob("*.tf")):
            document = hcl2.load(path.open())
            for block in document.get("locals", []):
                locals_.update({k: v for k, v in block.items() if not k.startswith("__")})
            for block in document.get("resource", []):
                for kind, named in block.items():
                    for name, body in named.items():
                        resources.setdefault(unquote(kind), {})[unquote(name)] = body
            for block in document.get("variable", []):
                variables.update({unquote(k): v for k, v in block.items()})
        return cls(folder, locals_, resources, variables)

    def value(self, expression: Any) -> Any:
        """The value of a local's expression, as far as this configuration needs."""
        if not isinstance(expression, str):
            return expression
        text = expression.strip()
        if text.startswith("${") and text.endswith("}"):
            text = text[2:-1].strip()
        if m := re.fullmatch(r"local\.(\w+)", text):
            return self.value(self.locals[m[1]])
        if text.startswith("merge(") and text.endswith(")"):
            merged: dict = {}
            for argument in _split_arguments(text[len("merge(") : -1]):
                merged.update(self.value(argument))
            return merged
        if m := re.fullmatch(r"\{\s*for\s+\w+\s*,\s*\w+\s+in\s+(\{.*\})\s*:.*\}", text, re.S):
            return _object(m[1])
        if m := re.fullmatch(r"[^?{}]+\?\s*(\{.*?\})\s*:\s*(\{.*\})", text, re.S):
            return {**_object(m[1]), **_object(m[2])}  # either branch may be what is set
        if text.startswith("{"):
            return _object(text)
        return expression

    def local(self, name: str) -> Any:
        return self.value(self.locals[name])

    @property
    def functions(self) -> dict[str, dict]:
        return self.local("functions")

    @property
    def push_subscriptions(self) -> dict[str, dict]:
        return self.local("push_subscriptions")

    def scheduled_topics(self) -> set[str]:
        """The topics a Cloud Scheduler job publishes to, as ``google_pubsub_topic.NAME``."""
        topics = set()
        for job in self.resources.get("google_cloud_scheduler_job", {}).values():
            for target in job.get("pubsub_target", []):
                topics.add(re.sub(r"^\$\{|\.id\}$", "", target["topic_name"]))
        return topics
