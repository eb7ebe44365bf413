"""Published and report files: readable by anyone, written whole."""

import os
import stat

from binderops.core.files import write_atomically


def test_published_files_are_world_readable_whatever_the_umask(tmp_path):
    previous = os.umask(0o077)
    try:
        write_atomically(tmp_path / "public" / "cloud-costs.jsonl", b'{"version": 1}\n')
    finally:
        os.umask(previous)
    written = tmp_path / "public" / "cloud-costs.jsonl"
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    assert written.read_bytes() == b'{"version": 1}\n'


def test_a_rewrite_replaces_the_file_and_leaves_no_temporary_behind(tmp_path):
    target = tmp_path / "index.jsonl"
    write_atomically(target, b"old\n")
    write_atomically(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["index.jsonl"]


def test_the_local_incident_reports_are_readable_too(tmp_path):
    from binderops.incidents.folder import FolderIssues

    issues = FolderIssues(tmp_path / "incidents")
    issues.create_issue("local/incidents", "Launch failures", "body", ["incident"])
    for page in (tmp_path / "incidents").glob("1.*"):
        assert stat.S_IMODE(page.stat().st_mode) == 0o644, page.name
