"""Files other processes read while they are written: the public folder and the local back ends."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

# Published files and local reports are for anyone to read, whatever the process's umask.
READABLE = 0o644


def write_atomically(
    path: Path, content: bytes, mode: int = READABLE, durable: bool = True
) -> None:
    """Write ``content`` to ``path`` so that a reader sees the old file or the new one, never
    half, and, if ``durable``, so that a crash right after leaves one of the two on disk,
    not an empty file. A cache, which is rebuilt if lost, need not wait for the disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        try:
            f.write(content)
            f.flush()
            os.fchmod(f.fileno(), mode)  # NamedTemporaryFile makes 0600
            if durable:
                os.fsync(f.fileno())  # the data is on disk before the name points at it
        except BaseException:
            os.unlink(f.name)
            raise
    os.replace(f.name, path)  # atomic on one file system
    if not durable:
        return
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # and so is the rename
    finally:
        os.close(directory)


def sha256_of(path: Path) -> tuple[int, str]:
    """A file's size and SHA-256, read in chunks (never whole in memory)."""
    with open(path, "rb") as f:
        return os.fstat(f.fileno()).st_size, hashlib.file_digest(f, "sha256").hexdigest()
