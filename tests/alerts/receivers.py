"""Real local receivers for alert channels: an SMTP server (aiosmtpd) and an HTTP server recording POSTs.

Fixtures are defined here and imported by the conftest of each test folder that sends alerts.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@dataclass
class SmtpReceiver:
    host: str
    port: int
    handler: _Handler

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}?from=alerts@example.com"

    def alert(self, index: int) -> dict[str, Any]:
        """The JSON payload attached to the ``index``-th message."""
        part = next(p for p in self.messages[index].iter_attachments() if p.get_filename() == "alert.json")
        return json.loads(part.get_content())


@dataclass
class HttpReceiver:
    """Records every POST; ``status`` is what it answers (set 500 to play a failing endpoint)."""

    port: int
    posts: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, path: str | None = None) -> list[dict[str, Any]]:
        return [p["json"] for p in self.posts if path is None or p["path"] == path]


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    from aiosmtpd.controller import Controller

    handler = _Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpReceiver("127.0.0.1", controller.port, handler)
    controller.stop()


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.posts.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            self.send_response(receiver.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def dead_port() -> int:
    """A loopback port nobody listens on: connections are refused at once (a channel that is down)."""
    return free_port()
