"""What a test can inspect afterwards: each REST request the bot made (`RecordedRequest`), each interaction the
twin dispatched and what became of it (`InteractionRecord`), and each breach of Discord's contract (`Violation`)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .protocol import JSON

# --------------------------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class RecordedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    size: int
    content_type: str | None


@dataclass
class RecordedRequest:
    """One REST request the bot made, with the twin's answer."""

    method: str
    path: str
    """Path relative to /api/v10 (e.g. ``/channels/123/messages``)."""
    query: dict[str, str]
    body: Any
    """Parsed JSON body (``payload_json`` for multipart), or None."""
    files: list[RecordedFile]
    time: float
    """``time.monotonic()`` when the request arrived."""
    template: str | None = None
    """The twin's route template, e.g. ``/channels/{channel_id}/messages``."""
    status: int = 0
    response: Any = None
    interaction_id: str | None = None
    """Set for interaction callbacks and webhook calls made with an interaction token."""
    kind: str | None = None
    """For interaction-related requests: callback, followup, get/edit/delete_original, get/edit/delete_followup."""

    @property
    def ok(self) -> bool:
        """Whether the twin answered 2xx."""
        return 200 <= self.status < 300

    @property
    def callback_type(self) -> int | None:
        """The callback type of an interaction callback request."""
        if self.kind == "callback" and isinstance(self.body, Mapping):
            value = self.body.get("type")
            return value if isinstance(value, int) else None
        return None

    @property
    def message(self) -> JSON:
        """The message-shaped part of the body (``data`` of a callback, else the body itself); {} if none."""
        body = self.body if isinstance(self.body, Mapping) else {}
        if self.kind == "callback":
            data = body.get("data")
            return dict(data) if isinstance(data, Mapping) else {}
        return dict(body)


@dataclass
class Violation:
    """A breach of Discord's API contract by the bot."""

    rule: str
    message: str
    method: str = ""
    path: str = ""
    time: float = field(default_factory=time.monotonic)

    def __str__(self) -> str:
        where = f" [{self.method} {self.path}]" if self.method else ""
        return f"{self.rule}: {self.message}{where}"


@dataclass
class InteractionRecord:
    """An interaction the twin dispatched and what became of it."""

    id: str
    token: str
    type: int
    payload: JSON
    channel_id: str
    guild_id: str | None
    user_id: str
    created_at: float
    sent: bool = False
    source_message_id: str | None = None
    original_message_id: str | None = None
    ack_type: int | None = None
    ack_at: float | None = None
    choices: list[JSON] | None = None
    modal: JSON | None = None

    @property
    def acknowledged(self) -> bool:
        """Whether an initial callback was accepted."""
        return self.ack_type is not None

    @property
    def ack_latency(self) -> float | None:
        """Seconds between dispatch and the accepted initial callback."""
        return None if self.ack_at is None else self.ack_at - self.created_at
