"""Public files: a local folder on one machine, a Cloud Storage bucket in production."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def write_public(name: str, content: bytes, content_type: str, public_dir: Path, bucket: str = "", api_url: str = "") -> str:
    """Publish ``content`` as ``name``; return where it went. Readers never see a half file."""
    if bucket:
        from google.cloud import storage

        options, credentials = {}, None
        if api_url:
            options["api_endpoint"] = api_url
            if urlparse(api_url).hostname in LOOPBACK_HOSTS:
                from google.auth.credentials import AnonymousCredentials

                credentials = AnonymousCredentials()
        client = storage.Client(project="-" if credentials else None, credentials=credentials, client_options=options)
        blob = client.bucket(bucket).blob(name)
        blob.cache_control = "public, max-age=300"
        blob.upload_from_string(content, content_type=content_type, timeout=60)
        return f"gs://{bucket}/{name}"
    public_dir.mkdir(parents=True, exist_ok=True)
    target = public_dir / name
    with tempfile.NamedTemporaryFile(dir=public_dir, prefix=f".{name}.", delete=False) as f:
        f.write(content)
    os.replace(f.name, target)  # atomic on one file system
    return str(target)
