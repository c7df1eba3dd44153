"""A small OAuth2 authorization server on loopback for the XOAUTH2 tests.

It plays both parts a real provider (Microsoft 365, Google) plays:
* the token endpoint, implementing the refresh_token grant of RFC 6749 section 6 (client authenticated by
  client_id/client_secret in the body, rotating refresh tokens like Microsoft does), and
* the introspection endpoint (RFC 7662) that Dovecot's oauth2 passdb asks whether an access token is valid
  (`introspection_mode = post`).
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLIENT_ID = "tessera-test-client"
CLIENT_SECRET = "client-secret-for-tests"


class OAuthServer:
    def __init__(self, username: str) -> None:
        self.username = username
        self.lock = threading.Lock()
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.rotate = True  # hand out a new refresh token with each refresh (and retire the old one)
        self.token_requests: list[dict[str, str]] = []
        self.introspections: list[str] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        with self.lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()
            self.token_requests.clear()
            self.introspections.clear()
            self.rotate = True

    def issue_refresh_token(self) -> str:
        token = "rt-" + secrets.token_urlsafe(16)
        with self.lock:
            self.refresh_tokens.add(token)
        return token

    def revoke(self, refresh_token: str) -> None:
        with self.lock:
            self.refresh_tokens.discard(refresh_token)

    # RFC 6749 section 6 -------------------------------------------------------------------------------

    def refresh(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.token_requests.append(form)
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return 401, {"error": "invalid_client"}
            if form.get("grant_type") != "refresh_token":
                return 400, {"error": "unsupported_grant_type"}
            old = form.get("refresh_token", "")
            if old not in self.refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": "The refresh token was revoked."}
            access = "at-" + secrets.token_urlsafe(16)
            self.access_tokens.add(access)
            body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": 3600}
            if self.rotate:
                self.refresh_tokens.discard(old)
                new = "rt-" + secrets.token_urlsafe(16)
                self.refresh_tokens.add(new)
                body["refresh_token"] = new
            return 200, body

    def introspect(self, token: str) -> dict[str, Any]:
        with self.lock:
            self.introspections.append(token)
            if token in self.access_tokens:
                return {"active": True, "username": self.username}
            return {"active": False}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path == "/token":
                    status, body = server.refresh(form)
                elif self.path == "/introspect":
                    status, body = 200, server.introspect(form.get("token", ""))
                else:
                    status, body = 404, {"error": "not_found"}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        return Handler
