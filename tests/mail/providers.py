"""A loopback HTTP server standing in for email providers' send APIs (Mailgun, Mandrill), reached by the real
anymail backends through their API URL setting. It keeps every request and answers like the provider."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ApiRequest:
    path: str
    headers: dict[str, str]
    fields: dict[str, list[str]] = field(default_factory=dict)  # form posts (Mailgun)
    json: Any = None  # JSON posts (Mandrill)
    answer: Any = None


class ProviderAPI:
    def __init__(self) -> None:
        self.requests: list[ApiRequest] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, request: ApiRequest) -> tuple[int, Any]:
        if request.path.startswith("/v3/") and request.path.endswith("/messages"):
            return 200, {
                "id": f"<{secrets.token_hex(8)}.mailgun@mg.tessera.test>",
                "message": "Queued. Thank you.",
            }
        if request.path == "/api/1.0/messages/send.json":
            to = request.json["message"]["to"]
            return 200, [{"email": r["email"], "status": "sent", "_id": secrets.token_hex(16)} for r in to]
        return 404, {"message": "not found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = self.headers.get("Content-Type", "")
                request = ApiRequest(path=self.path, headers=dict(self.headers.items()))
                if kind.startswith("application/json") or self.path.endswith(".json"):
                    request.json = json.loads(body)  # anymail posts Mandrill's JSON without a type
                elif kind.startswith("multipart/form-data"):
                    parsed = BytesParser(policy=policy.HTTP).parsebytes(
                        f"Content-Type: {kind}\r\n\r\n".encode() + body
                    )
                    for part in parsed.iter_parts():
                        name = str(part.get_param("name", header="content-disposition"))
                        request.fields.setdefault(name, []).append(part.get_content())
                else:
                    request.fields = urllib.parse.parse_qs(body.decode())
                status, answer = api.answer(request)
                request.answer = answer
                with api.lock:
                    api.requests.append(request)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
