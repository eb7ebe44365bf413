"""Public files: a local folder on one machine, a Cloud Storage bucket in production."""

from __future__ import annotations

from pathlib import Path

from .clients import google_endpoint
from .files import write_atomically


def write_public(name: str, content: bytes, content_type: str, public_dir: Path, bucket: str = "", api_url: str = "") -> str:
    """Publish ``content`` as ``name``; return where it went. Readers never see a half file."""
    if bucket:
        from google.cloud import storage

        credentials, options = google_endpoint(api_url)
        client = storage.Client(project="-" if credentials else None, credentials=credentials, client_options=options)
        blob = client.bucket(bucket).blob(name)
        blob.cache_control = "public, max-age=300"
        blob.upload_from_string(content, content_type=content_type, timeout=60)
        return f"gs://{bucket}/{name}"
    target = public_dir / name
    write_atomically(target, content)
    return str(target)
