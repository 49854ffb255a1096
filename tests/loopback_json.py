"""TEST FIXTURE: the part every loopback JSON API stand-in shares (the comment/note hosts the
report-comment tests answer as): quiet logging, a JSON reply, the request's JSON body."""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON; subclasses route in `_handle`."""

    content_type = "application/json"

    def log_message(self, *_args) -> None:  # keep the test output clean
        return

    def _reply(self, status: int, payload, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json_body(self, default=None):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else default
