"""The google provider's resource schemas, read offline from the prebuilt CDK bindings.

``terraform validate`` needs the provider, which cannot be downloaded here. Its schema ships
on PyPI inside ``cdktf-cdktf-provider-google`` (provider 6.50): the wheel carries
``_jsii/provider-google@VERSION.jsii.tgz``, whose ``.jsii`` JSON lists each resource's config
struct, every property (camelCase) and whether it is optional. It is read as data (no
Node.js) and the part needed is cached outside the repository.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from functools import cache
from pathlib import Path

PACKAGE = "cdktf-cdktf-provider-google"
VERSION = "16.12.1"  # google provider 6.50
# Cached by version, outside the repository; the structs file is a few MB.
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "binderops"
PREFIX = "@cdktf/provider-google."


def _download_types() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "-d",
                tmp,
                f"{PACKAGE}=={VERSION}",
            ],
            check=True,
            timeout=600,
        )
        [wheel] = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as z:
            [name] = [n for n in z.namelist() if n.endswith(".jsii.tgz")]
            packed = z.read(name)
        with tarfile.open(fileobj=io.BytesIO(packed)) as archive:
            document = json.load(archive.extractfile("package/.jsii"))
    structs = {}
    for fqn, kind in document["types"].items():
        if kind.get("kind") != "interface" or not fqn.startswith(PREFIX):
            continue
        properties = {}
        for prop in kind.get("properties", []):
            nested = _nested(prop["type"])
            properties[prop["name"]] = {"optional": prop.get("optional", False), "nested": nested}
        structs[fqn] = properties
    return structs


def _nested(kind: dict) -> str | None:
    """The struct a property's value is made of (a block), if any."""
    if "fqn" in kind:  # a struct of the provider (cdktf's own types are not blocks)
        return kind["fqn"] if kind["fqn"].startswith(PREFIX) else None
    collection = kind.get("collection")
    if collection:
        return _nested(collection["elementtype"])
    union = kind.get("union")
    if union:
        found = [_nested(t) for t in union["types"]]
        return next((f for f in found if f), None)
    return None


@cache
def structs() -> dict[str, dict]:
    path = CACHE / f"provider-google-{VERSION}-structs-v2.json"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_download_types()))
    return json.loads(path.read_text())


def camel(snake: str) -> str:
    first, *rest = snake.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def resource_struct(resource_type: str) -> str:
    """The config struct of a resource type: google_cloudfunctions2_function →
    @cdktf/provider-google.cloudfunctions2Function.Cloudfunctions2FunctionConfig"""
    module = camel(resource_type.removeprefix("google_"))
    name = f"{PREFIX}{module}.{module[:1].upper()}{module[1:]}"
    # Where a struct's name would clash with another type, jsii adds an "A".
    return next(
        c for c in (f"{name}Config", f"{name}AConfig") if c in structs() or c.endswith("AConfig")
    )
