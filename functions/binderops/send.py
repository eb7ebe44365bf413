"""``binderops send``: post realistic, correctly signed requests to the local stack.

``binderops run`` writes where its functions listen (and the per-run webhook secret and
alert token) to ``STATE_DIR/stack.json``; ``send`` reads it, so a newcomer can type
``binderops send github-push`` and watch a deploy flow through.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import uuid
from pathlib import Path

import requests

STACK_FILE = "stack.json"
SAMPLE_REPO = "binder-examples/federation-deploy"


def write_stack(state_dir: Path, info: dict) -> Path:
    """Record the running stack's endpoints and per-run secrets, readable by this user only."""
    path = Path(state_dir) / STACK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(info, f, indent=1)
    return path


def read_stack(state_dir: Path) -> dict:
    path = Path(state_dir) / STACK_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no running stack recorded in {path}: start one with `binderops run` (or pass --url)") from None


def push_event(repo: str, sha: str, branch: str = "main", files: tuple[str, ...] = ("mybinder/values.yaml",)) -> dict:
    """A ``push`` webhook payload as GitHub sends it (the fields binderops reads, and a few more)."""
    commit = {
        "id": sha, "message": "Bump BinderHub chart", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "author": {"name": "A Contributor", "username": "contributor"}, "added": [], "removed": [], "modified": list(files),
    }  # fmt: skip
    return {
        "ref": f"refs/heads/{branch}", "before": "0" * 39 + "1", "after": sha, "created": False, "deleted": False, "forced": False,
        "repository": {"full_name": repo, "default_branch": branch}, "pusher": {"name": "contributor"},
        "head_commit": commit, "commits": [commit],
    }  # fmt: skip


def post_webhook(url: str, secret: str, event: str, payload: dict, delivery: str = "") -> requests.Response:
    """POST ``payload`` as GitHub does: JSON body, event and delivery headers, HMAC-SHA256 signature."""
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/binderops-send",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    return requests.post(url, data=body, headers=headers, timeout=15)


def random_sha() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex[:8]
