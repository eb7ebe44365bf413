"""Public files: a local folder on one machine, a Cloud Storage bucket in production."""

from __future__ import annotations

from functools import cache

from .clients.http import google_endpoint
from .config import Settings
from .files import write_atomically


@cache
def _storage(api_url: str):
    """One Cloud Storage client per instance and endpoint: a run publishes several files."""
    from google.cloud import storage

    credentials, options = google_endpoint(api_url)
    return storage.Client(
        project="-" if credentials else None, credentials=credentials, client_options=options
    )


def write_public(name: str, content: bytes, content_type: str, settings: Settings) -> str:
    """Publish ``content`` as ``name`` to ``BINDEROPS_PUBLIC_BUCKET``, else ``BINDEROPS_PUBLIC_DIR``;
    return where it went. Readers never see a half file."""
    bucket = settings.public_bucket
    if bucket:
        blob = _storage(settings.storage_api_url).bucket(bucket).blob(name)
        blob.cache_control = "public, max-age=300"
        blob.upload_from_string(content, content_type=content_type, timeout=60)
        return f"gs://{bucket}/{name}"
    target = settings.public_dir / name
    write_atomically(target, content)
    return str(target)
