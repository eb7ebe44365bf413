"""Public files: a local folder on one machine, a Cloud Storage bucket in production."""

from __future__ import annotations

from .clients.http import google_endpoint
from .config import Settings
from .files import write_atomically


def write_public(name: str, content: bytes, content_type: str, settings: Settings) -> str:
    """Publish ``content`` as ``name`` to ``BINDEROPS_PUBLIC_BUCKET``, else ``BINDEROPS_PUBLIC_DIR``;
    return where it went. Readers never see a half file."""
    bucket = settings.public_bucket
    if bucket:
        from google.cloud import storage

        credentials, options = google_endpoint(settings.storage_api_url)
        client = storage.Client(
            project="-" if credentials else None, credentials=credentials, client_options=options
        )
        blob = client.bucket(bucket).blob(name)
        blob.cache_control = "public, max-age=300"
        blob.upload_from_string(content, content_type=content_type, timeout=60)
        return f"gs://{bucket}/{name}"
    target = settings.public_dir / name
    write_atomically(target, content)
    return str(target)
