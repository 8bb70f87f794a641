"""What the command layer answers with: HTML text (bot/ui/html.py), optional buttons, no Telegram
types."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.ui import countries, i18n

# Telegram refuses longer messages; the command layer splits long lists below this.
MAX_TEXT = 4096


@dataclass(frozen=True)
class Button:
    """One inline button: what it says and either what a tap sends back or the link it opens."""

    label: str  # plain text (Telegram shows button labels as they are)
    data: str | None = None  # callback data, built and parsed only by bot.callbacks
    url: str | None = None  # a link button (IMDb, Letterboxd, a deep link to the bot)

    def __post_init__(self) -> None:
        """A button does exactly one thing: send `data` back or open `url`."""
        if (self.data is None) == (self.url is None):
            raise ValueError(f"button {self.label!r} needs callback data or a url, not both")


@dataclass(frozen=True)
class Picture:
    """A chart drawn when the reply is sent: "taste" or "map" of a user, "group" of a chat.

    Only the request is stored with the answer (bot.pictures draws it), so a stored answer
    stays small and a retried delivery draws the same chart again.
    """

    kind: str
    subject: int
    focus: int | None = None
    # The language of its labels: the one being spoken when the reply was made.
    language: str = field(default_factory=i18n.current)


@dataclass(frozen=True)
class Document:
    """A file made when the reply is sent: "letterboxd", "imdb" or "letterboxd-watchlist"
    export of a user (bot.history_export writes it). Like a Picture, only the request is
    stored with the answer."""

    kind: str
    subject: int


@dataclass(frozen=True)
class PollRequest:
    """A Telegram poll to send instead of a message: the reply's text is its question (plain,
    not HTML), `options` its answers; once sent it is attached to movie night `night`."""

    night: int
    options: tuple[str, ...]


@dataclass(frozen=True)
class Poster:
    """The film whose TMDB poster the reply may be sent with, its text as the caption, and a
    line about the film in the reply's language and where to watch it in its country (when
    the bot runs with a TMDB key and TMDB has a poster; otherwise the reply goes as text)."""

    movie_id: int
    language: str = field(default_factory=i18n.current)
    country: str = field(default_factory=countries.current)


@dataclass(frozen=True)
class Reply:
    """One message: its HTML text, its rows of buttons, optionally a picture, a document or a
    poll.

    `preview_url` is the one link Telegram draws a preview for (the top pick's page, whose
    poster Telegram fetches itself); without it the message has no link preview.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    picture: Picture | None = None  # sent as a photo with `text` as its caption
    document: Document | None = None  # sent as a file with `text` as its caption
    preview_url: str | None = None
    poll: PollRequest | None = None
    poster: Poster | None = None


@dataclass
class Outcome:
    """Everything one message or tap causes.

    `edit` replaces the message whose button was tapped; `toast` is the short notice Telegram
    shows on a tap (answerCallbackQuery); `stop_poll` (chat id, message id) closes a poll the
    bot sent; `replies` are new messages, in order. They go to the chat (and forum topic) the
    update came from, or to `chat_id` (and `thread_id`) for updates from no chat (a poll's).
    `truncate_wal`: once the update is done (its journal row cleared), empty the database's
    write-ahead log (after /forget: no old frame keeps what was deleted).
    """

    replies: list[Reply] = field(default_factory=list)
    edit: Reply | None = None
    toast: str | None = None
    stop_poll: tuple[int, int] | None = None
    chat_id: int | None = None
    thread_id: int | None = None
    truncate_wal: bool = False

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


def _button_to_list(button: Button) -> list:
    """[label, data] for a callback button (as stored before link buttons), [label, None, url]
    for a link button."""
    return [button.label, button.data] if button.url is None else [button.label, None, button.url]


def _reply_to_dict(reply: Reply) -> dict:
    """The reply as plain JSON data."""
    picture, poster = reply.picture, reply.poster
    return {
        "text": reply.text,
        "buttons": [[_button_to_list(b) for b in row] for row in reply.buttons],
        "picture": [picture.kind, picture.subject, picture.focus, picture.language]
        if picture
        else None,
        "document": [reply.document.kind, reply.document.subject] if reply.document else None,
        "preview_url": reply.preview_url,
        "poll": [reply.poll.night, list(reply.poll.options)] if reply.poll else None,
        "poster": [poster.movie_id, poster.language, poster.country] if poster else None,
    }


def _reply_from_dict(data: dict) -> Reply:
    """The reply stored by _reply_to_dict (or by a version before link buttons)."""
    buttons = tuple(tuple(Button(*fields) for fields in row) for row in data["buttons"])
    picture = Picture(*data["picture"]) if data.get("picture") else None
    document = Document(*data["document"]) if data.get("document") else None
    poll = data.get("poll")
    poll_request = PollRequest(poll[0], tuple(poll[1])) if poll else None
    poster = Poster(*data["poster"]) if data.get("poster") else None
    return Reply(
        data["text"], buttons, picture, document, data.get("preview_url"), poll_request, poster
    )


def outcome_to_json(outcome: Outcome) -> str:
    """The outcome as JSON, so a computed answer can be stored and sent (again) later."""
    return json.dumps(
        {
            "replies": [_reply_to_dict(r) for r in outcome.replies],
            "edit": _reply_to_dict(outcome.edit) if outcome.edit else None,
            "toast": outcome.toast,
            "stop_poll": list(outcome.stop_poll) if outcome.stop_poll else None,
            "chat_id": outcome.chat_id,
            "thread_id": outcome.thread_id,
            "truncate_wal": outcome.truncate_wal,
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
        stop_poll=tuple(data["stop_poll"]) if data.get("stop_poll") else None,
        chat_id=data.get("chat_id"),
        thread_id=data.get("thread_id"),
        truncate_wal=data.get("truncate_wal", False),
    )
