"""Public files: a local folder on one machine, a Cloud Storage bucket in production."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from ..core.config import Settings
from ..core.files import sha256_of, write_atomically
from .http import google_endpoint

# How long a reader's cache may keep a file that the next run can rewrite.
CACHE_CONTROL = "public, max-age=300"


@cache
def _storage(api_url: str):
    """One Cloud Storage client per instance and endpoint: a run publishes several files."""
    from google.cloud import storage

    credentials, options = google_endpoint(api_url)
    return storage.Client(
        project="-" if credentials else None, credentials=credentials, client_options=options
    )


def _bucket(settings: Settings):
    return _storage(settings.storage_api_url).bucket(settings.public_bucket)


def write_public(
    name: str,
    content: bytes | Path,
    content_type: str,
    settings: Settings,
    metadata: Mapping[str, str] | None = None,
    cache_control: str = CACHE_CONTROL,
) -> str:
    """Publish ``content`` (bytes, or a finished local file to move into place) as ``name`` to
    ``BINDEROPS_PUBLIC_BUCKET``, else ``BINDEROPS_PUBLIC_DIR``; return where it went.

    Readers never see a half file. ``metadata`` (custom object metadata) exists in the
    bucket only: a folder has nowhere to keep it.
    """
    if settings.public_bucket:
        blob = _bucket(settings).blob(name)
        blob.cache_control = cache_control
        blob.metadata = dict(metadata) if metadata else None
        if isinstance(content, Path):
            blob.upload_from_filename(str(content), content_type=content_type, timeout=120)
            content.unlink()
        else:
            blob.upload_from_string(content, content_type=content_type, timeout=60)
        return f"gs://{settings.public_bucket}/{name}"
    target = settings.public_dir / name
    if isinstance(content, Path):
        content.chmod(0o644)
        content.replace(target)  # the file was written beside it: the rename is atomic
    else:
        write_atomically(target, content)
    return str(target)


def read_public(name: str, settings: Settings) -> bytes | None:
    """A published file's bytes, or None if it was never published."""
    if settings.public_bucket:
        from google.api_core.exceptions import NotFound

        try:
            return _bucket(settings).blob(name).download_as_bytes(timeout=60)
        except NotFound:
            return None
    try:
        return (settings.public_dir / name).read_bytes()
    except FileNotFoundError:
        return None


def digest_public(name: str, settings: Settings) -> tuple[int, str]:
    """A published file's size and SHA-256, read back in chunks (never whole in memory)."""
    if not settings.public_bucket:
        return sha256_of(settings.public_dir / name)
    import hashlib

    digest = hashlib.sha256()
    size = 0

    class _Sink:  # what download_to_file writes the object's chunks to
        def write(self, chunk: bytes) -> int:
            nonlocal size
            digest.update(chunk)
            size += len(chunk)
            return len(chunk)

    _bucket(settings).blob(name).download_to_file(_Sink(), timeout=300)
    return size, digest.hexdigest()


def scratch_file(name: str, settings: Settings) -> Path:
    """Where to write a file before ``write_public`` moves it into place: beside its target
    in the public folder (so the move is a rename), else in the state folder."""
    folder = settings.state_dir / "publishing" if settings.public_bucket else settings.public_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f".{name}.partial"


def publish_staged(
    prefix: str, name: str, content_type: str, settings: Settings, metadata=None
) -> list[str]:
    """Copy the objects a warehouse export wrote under ``prefix`` in the bucket to ``name``,
    server-side (the bytes never pass through this process), then delete them; return where
    they went. An export of more than about 1 GB comes in several objects: they become
    ``NAME-000.EXT``, ``NAME-001.EXT`` and so on, in the export's order.
    """
    bucket = _bucket(settings)
    staged = sorted(bucket.list_blobs(prefix=prefix), key=lambda blob: blob.name)
    stem, dot, suffix = name.rpartition(".")
    published = []
    for number, blob in enumerate(staged):
        target = name if len(staged) == 1 else f"{stem}-{number:03d}{dot}{suffix}"
        copied = bucket.copy_blob(blob, bucket, target, timeout=120)
        copied.cache_control = CACHE_CONTROL
        copied.content_type = content_type
        copied.metadata = dict(metadata) if metadata else None
        copied.patch(timeout=60)
        blob.delete(timeout=60)
        published.append(f"gs://{settings.public_bucket}/{target}")
    return published
