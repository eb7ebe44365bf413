"""The local stand-in for a GitHub repository's issues: incident reports as files in a folder.

Used when no GitHub token is set (the local stack, or an operator who wants reports on disk).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.files import write_atomically
from ..core.locks import locked


class FolderIssues:
    """Issues as files in a folder: the local stack's stand-in for a GitHub repository.

    ``N.json`` keeps the issue, ``N.md`` shows its body with the comments below it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _load(self) -> list[dict]:
        found = (
            [json.loads(p.read_text()) for p in self.folder.glob("*.json")]
            if self.folder.exists()
            else []
        )
        return sorted(found, key=lambda i: i["number"], reverse=True)

    def _save(self, issue: dict) -> dict:
        # Written whole: another function's process may be reading the folder right now.
        base = self.folder / str(issue["number"])
        write_atomically(base.with_suffix(".json"), json.dumps(issue, indent=1).encode())
        comments = "".join(f"\n\n---\n\n{c['body']}" for c in issue["comments"])
        labels = ", ".join(label["name"] for label in issue["labels"])
        page = f"# {issue['title']}\n\nLabels: {labels} · {issue['state']}\n\n{issue['body']}{comments}\n"
        write_atomically(base.with_suffix(".md"), page.encode())
        return issue

    def issues(self, repo: str, label: str):
        return [i for i in self._load() if label in {tag["name"] for tag in i["labels"]}]

    def create_issue(self, repo: str, title: str, body: str, labels: list[str]) -> dict:
        with locked(self.folder):
            number = max((i["number"] for i in self._load()), default=0) + 1
            path = (self.folder / f"{number}.md").resolve()
            return self._save(
                {
                    "number": number,
                    "title": title,
                    "body": body,
                    "labels": [{"name": n} for n in labels],
                    "state": "open",
                    "html_url": path.as_uri(),
                    "created_at": datetime.now(UTC).isoformat(),
                    "comments": [],
                }
            )

    def _issue(self, number: int) -> dict:
        return json.loads((self.folder / f"{number}.json").read_text())

    def update_issue(self, repo: str, number: int, **fields: Any) -> dict:
        with locked(self.folder):
            issue = self._issue(number)
            if "labels" in fields:
                fields["labels"] = [{"name": n} for n in fields["labels"]]
            issue.update(fields)
            return self._save(issue)

    def comments(self, repo: str, number: int):
        return self._issue(number)["comments"]

    def comment(self, repo: str, number: int, body: str) -> dict:
        with locked(self.folder):
            issue = self._issue(number)
            issue["comments"].append({"body": body})
            self._save(issue)
            return issue["comments"][-1]
