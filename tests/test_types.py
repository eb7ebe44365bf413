"""mypy over the deployed functions and the local tooling, with pyproject's [tool.mypy]."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def mypy(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("mypy")),
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(cwd / ".mypy_cache"),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_functions_type_check_at_zero_errors(tmp_path):
    shutil.copytree(
        ROOT / "functions", tmp_path / "functions", ignore=shutil.ignore_patterns("__pycache__")
    )
    result = mypy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found")


@pytest.mark.parametrize(
    ("module", "line", "changed", "error"),
    [
        # A collaborator that may be missing, used without asking whether it is there.
        (
            "incidents/notifier.py",
            "        return issues.update_issue(self.repo",
            "        return self.issues.update_issue(self.repo",
            'Item "None" of "Issues | None" has no attribute "update_issue"',
        ),
        # Branching on a setting, not on what the warehouse can do: BigQuery's export on DuckDB.
        (
            "launches/archive.py",
            "    if isinstance(warehouse, Exporting):\n        first",
            "    if settings.public_bucket:\n        first",
            'Item "ArrowReading" of "Exporting | ArrowReading" has no attribute "export"',
        ),
    ],
)
def test_a_type_error_is_caught(tmp_path, module, line, changed, error):
    shutil.copytree(
        ROOT / "functions", tmp_path / "functions", ignore=shutil.ignore_patterns("__pycache__")
    )
    path = tmp_path / "functions" / "binderops" / module
    source = path.read_text()
    assert source.count(line) == 1
    path.write_text(source.replace(line, changed))
    result = mypy(tmp_path)
    assert result.returncode == 1
    assert error in result.stdout


def test_every_type_ignore_says_why_on_its_line():
    unexplained = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "functions").rglob("*.py")
        for n, text in enumerate(path.read_text().splitlines(), 1)
        if (match := re.search(r"#\s*type:\s*ignore\S*(.*)", text)) and "#" not in match.group(1)
    ]
    assert unexplained == []
