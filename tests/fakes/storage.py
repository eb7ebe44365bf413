"""Enough of Cloud Storage's JSON API, on loopback, for the real google-cloud-storage client:
multipart uploads, downloads, listing by prefix, server-side copies, metadata patches and
deletes. It keeps each object's metadata and bytes for the test to check."""

from __future__ import annotations

import json
import re
from email import message_from_bytes
from urllib.parse import unquote

from .http import Request, Response

OBJECT = r"/storage/v1/b/(?P<bucket>[^/]+)/o/(?P<name>[^/]+)"


class FakeStorage:
    def __init__(self) -> None:
        self.objects: dict[str, dict] = {}
        self.copies: list[tuple[str, str]] = []
        self.deleted: list[str] = []

    def put(self, bucket: str, name: str, data: bytes, content_type: str = "") -> None:
        """An object written by someone else (BigQuery's export, a previous run)."""
        self.objects[f"{bucket}/{name}"] = {
            "metadata": {"name": name},
            "content_type": content_type,
            "data": data,
        }

    def _resource(self, bucket: str, name: str) -> dict:
        stored = self.objects[f"{bucket}/{name}"]
        meta = stored["metadata"]
        return {
            **{k: v for k, v in meta.items() if k in ("cacheControl", "metadata")},
            "bucket": bucket,
            "name": name,
            "size": str(len(stored["data"])),
            "generation": "1",
            "contentType": stored["content_type"],
        }

    def __call__(self, request: Request) -> Response:
        path, method = request.path, request.method
        if m := re.fullmatch(r"/upload/storage/v1/b/(?P<bucket>[^/]+)/o", path):
            assert method == "POST", method
            assert request.query.get("uploadType") == ["multipart"], request.query
            return self._upload(request, m["bucket"])
        if m := re.fullmatch(r"/storage/v1/b/(?P<bucket>[^/]+)/o", path):
            assert method == "GET", method
            prefix = request.query.get("prefix", [""])[0]
            names = sorted(
                key.split("/", 1)[1]
                for key in self.objects
                if key.startswith(f"{m['bucket']}/{prefix}")
            )
            return Response(200, {"items": [self._resource(m["bucket"], n) for n in names]})
        if m := re.fullmatch(OBJECT + r"/copyTo/b/(?P<target>[^/]+)/o/(?P<to>[^/]+)", path):
            assert method == "POST", method
            source = f"{m['bucket']}/{unquote(m['name'])}"
            target = f"{m['target']}/{unquote(m['to'])}"
            if source not in self.objects:
                return Response(404, {"error": {"code": 404, "message": "No such object"}})
            self.objects[target] = {
                **self.objects[source],
                "metadata": {"name": unquote(m["to"])},
            }
            self.copies.append((source, target))
            return Response(200, self._resource(m["target"], unquote(m["to"])))
        if m := re.fullmatch(r"(?:/download)?" + OBJECT, path):
            key = f"{m['bucket']}/{unquote(m['name'])}"
            if key not in self.objects:
                return Response(404, {"error": {"code": 404, "message": "No such object"}})
            if method == "GET" and request.query.get("alt") == ["media"]:
                data = self.objects[key]["data"]
                return Response(200, data, {"Content-Type": "application/octet-stream"})
            if method == "PATCH":
                patch = request.json()
                stored = self.objects[key]
                stored["metadata"] = {**stored["metadata"], **patch}
                if "contentType" in patch:
                    stored["content_type"] = patch["contentType"]
                return Response(200, self._resource(m["bucket"], unquote(m["name"])))
            if method == "DELETE":
                del self.objects[key]
                self.deleted.append(key)
                return Response(204)
        raise AssertionError(f"unexpected {method} {path}")

    def _upload(self, request: Request, bucket: str) -> Response:
        message = message_from_bytes(
            b"Content-Type: "
            + request.headers["content-type"].encode()
            + b"\r\n\r\n"
            + request.body
        )
        meta_part, data_part = message.get_payload()
        metadata = json.loads(meta_part.get_payload(decode=True))
        data = data_part.get_payload(decode=True)
        self.objects[f"{bucket}/{metadata['name']}"] = {
            "metadata": metadata,
            "content_type": data_part.get_content_type(),
            "data": data,
        }
        return Response(200, self._resource(bucket, metadata["name"]))
