"""Enough of Cloud Storage's JSON API, on loopback, for the real google-cloud-storage client
to upload an object; it keeps each upload's metadata and bytes for the test to check."""

from __future__ import annotations

import json
import re
from email import message_from_bytes

from .http import Request, Response


class FakeStorage:
    def __init__(self) -> None:
        self.objects: dict[str, dict] = {}

    def __call__(self, request: Request) -> Response:
        m = re.fullmatch(r"/upload/storage/v1/b/(?P<bucket>[^/]+)/o", request.path)
        assert m and request.method == "POST", f"unexpected {request.method} {request.path}"
        assert request.query.get("uploadType") == ["multipart"], request.query
        message = message_from_bytes(
            b"Content-Type: "
            + request.headers["content-type"].encode()
            + b"\r\n\r\n"
            + request.body
        )
        meta_part, data_part = message.get_payload()
        metadata = json.loads(meta_part.get_payload(decode=True))
        data = data_part.get_payload(decode=True)
        key = f"{m['bucket']}/{metadata['name']}"
        self.objects[key] = {
            "metadata": metadata,
            "content_type": data_part.get_content_type(),
            "data": data,
        }
        return Response(
            200,
            {
                "bucket": m["bucket"],
                "name": metadata["name"],
                "size": str(len(data)),
                "generation": "1",
            },
        )
