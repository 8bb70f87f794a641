"""What the command layer answers with: text, optional buttons, no Telegram types."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# Telegram refuses longer messages; the command layer splits long lists below this.
MAX_TEXT = 4096


@dataclass(frozen=True)
class Button:
    """One inline button: what it says and what a tap sends back."""

    label: str
    data: str  # callback data, built and parsed only by bot.callbacks


@dataclass(frozen=True)
class Picture:
    """A chart drawn when the reply is sent: "taste" or "map" of a user, "group" of a chat.

    Only the request is stored with the answer (bot.pictures draws it), so a stored answer
    stays small and a retried delivery draws the same chart again.
    """

    kind: str
    subject: int
    focus: int | None = None


@dataclass(frozen=True)
class Document:
    """A file made when the reply is sent: "letterboxd", "imdb" or "letterboxd-watchlist"
    export of a user (bot.history_export writes it). Like a Picture, only the request is
    stored with the answer."""

    kind: str
    subject: int


@dataclass(frozen=True)
class Reply:
    """One message: its text, its rows of buttons, optionally a picture or a document."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    picture: Picture | None = None  # sent as a photo with `text` as its caption
    document: Document | None = None  # sent as a file with `text` as its caption


@dataclass
class Outcome:
    """Everything one message or tap causes.

    `edit` replaces the message whose button was tapped; `toast` is the short notice Telegram
    shows on a tap (answerCallbackQuery); `replies` are new messages, in order.
    """

    replies: list[Reply] = field(default_factory=list)
    edit: Reply | None = None
    toast: str | None = None

    @classmethod
    def say(cls, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> Outcome:
        """One new message."""
        return cls(replies=[Reply(text, buttons)])


def split_text(lines: list[str], limit: int = MAX_TEXT) -> list[str]:
    """Join lines into as few messages as fit under `limit` characters each."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = line[:limit]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


def _reply_to_dict(reply: Reply) -> dict:
    """The reply as plain JSON data."""
    picture = reply.picture
    return {
        "text": reply.text,
        "buttons": [[[b.label, b.data] for b in row] for row in reply.buttons],
        "picture": [picture.kind, picture.subject, picture.focus] if picture else None,
        "document": [reply.document.kind, reply.document.subject] if reply.document else None,
    }


def _reply_from_dict(data: dict) -> Reply:
    """The reply stored by _reply_to_dict."""
    buttons = tuple(tuple(Button(label, cb) for label, cb in row) for row in data["buttons"])
    picture = Picture(*data["picture"]) if data.get("picture") else None
    document = Document(*data["document"]) if data.get("document") else None
    return Reply(data["text"], buttons, picture, document)


def outcome_to_json(outcome: Outcome) -> str:
    """The outcome as JSON, so a computed answer can be stored and sent (again) later."""
    return json.dumps(
        {
            "replies": [_reply_to_dict(r) for r in outcome.replies],
            "edit": _reply_to_dict(outcome.edit) if outcome.edit else None,
            "toast": outcome.toast,
        },
        ensure_ascii=False,
    )


def outcome_from_json(text: str) -> Outcome:
    """The outcome stored by outcome_to_json."""
    data = json.loads(text)
    return Outcome(
        replies=[_reply_from_dict(r) for r in data["replies"]],
        edit=_reply_from_dict(data["edit"]) if data["edit"] else None,
        toast=data["toast"],
    )
