"""A real SMTP server for tests (aiosmtpd on a free local port); the `smtp` fixture in conftest.py starts one."""

from __future__ import annotations

import asyncio
import socket
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailSink:
    """aiosmtpd handler: keeps every accepted message; can refuse (`reply`) or be slow (`delay`)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.reply = "250 OK"
        self.delay = 0.0
        self._accepted = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.reply.startswith("250"):
            return self.reply
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        with self._accepted:
            self.messages.append(msg)
            self._accepted.notify_all()
        return "250 OK"

    def wait_for(self, n: int, timeout: float) -> bool:
        """Block until `n` messages have been accepted (True) or `timeout` seconds pass (False)."""
        with self._accepted:
            return self._accepted.wait_for(lambda: len(self.messages) >= n, timeout)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.sink = MailSink()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
