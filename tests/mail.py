"""E-mail in tests: a real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

The ``inbox`` fixture (``tests/conftest.py``) starts one for a test and points CKAN's ``smtp.*``
options at it, with notifications on.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """The messages the server received, in order (headers decoded and unfolded)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # the name aiosmtpd calls
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        """The messages sent to this address."""
        return [m for m in self.messages if address in m["To"]]

    def recipients(self) -> list[str]:
        """The address of each message's recipient, in order (one address a message)."""
        return [email.utils.parseaddr(m["To"])[1] for m in self.messages]

    def clear(self) -> None:
        self.messages.clear()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(ckan_config: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A server running for the block, with CKAN sending to it and notifications on."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{port}")
    monkeypatch.setitem(ckan_config, "smtp.mail_from", "cd3p@detroitmi.gov")
    monkeypatch.setitem(ckan_config, "ckanext.cd3p.notifications", True)
    try:
        yield handler
    finally:
        controller.stop()


def subject(message: Message) -> str:
    """The message's subject on one line (a long one is folded, and may start with the fold)."""
    return " ".join(message["Subject"].split())


def body(message: Message) -> str:
    """The message's plain-text body, decoded."""
    part = message.get_payload(0) if message.is_multipart() else message
    return part.get_payload(decode=True).decode()
