"""What a feature module declares: its commands and buttons, on their handlers.

Each feature module (bot/commands/features/) makes one `Router` and decorates its handlers:

    router = Router()

    @router.command("about", Where.BOTH, rank=205, menu=N_("..."), help=N_("/about - ..."))
    def about(ctx: Context, args: str) -> Outcome:
        \"\"\"Say what the bot is.\"\"\"

    @router.tap(Verb.HIDE, personal=True)
    def hide(ctx: Context, cb: Callback) -> Outcome:
        ...

bot/commands/dispatcher.py collects the routers and derives the menus, /help and the routing
from these declarations; a handler gets a `Context` (who, where, the catalog and model) and
never sees Telegram.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from bot.service import MovieService
from bot.ui.callbacks import Callback, Verb
from bot.ui.replies import Outcome


@dataclass(frozen=True)
class Sender:
    """Who sent a message or tapped a button."""

    user_id: int
    display_name: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Chat:
    """Where a message was sent or a button tapped."""

    chat_id: int
    is_private: bool = True
    thread_id: int | None = None  # the forum topic, where replies go


@dataclass(frozen=True)
class Context:
    """What every handler gets: who asked, where, and the catalog and model to answer from."""

    service: MovieService
    sender: Sender
    chat: Chat
    bot_username: str | None = None
    # The sender's status in the group the command concerns ("member", "administrator",
    # "left", ...), as the adapter asked Telegram before the command ran
    # (Conversation.membership_target); None: not asked (the console) or Telegram did not say.
    checked_status: str | None = None

    @property
    def db(self):
        """The database the service reads (one thread at a time)."""
        return self.service.db

    @property
    def user_id(self) -> int:
        """The sender's id."""
        return self.sender.user_id


class Where(Enum):
    """The chats a command is for."""

    PRIVATE = "private"  # a group is told to ask in private (PRIVATE_ONLY)
    GROUP = "group"  # a private chat is told where it works (the command's `elsewhere`)
    BOTH = "both"


CommandHandler = Callable[[Context, str], Outcome]
TapHandler = Callable[[Context, Callback], Outcome]
H = TypeVar("H", bound=Callable)


@dataclass(frozen=True)
class Command:
    """One command, declared once (`Router.command`)."""

    name: str
    handler: CommandHandler
    where: Where
    rank: int  # its place in the menus and in /help, lowest first
    menu: str | None = None  # its line in the Telegram command menus
    menus: Where | None = None  # which menus list it; None: the chats it is for
    help: str | None = None  # its /help line; a group command's is part of one group line
    elsewhere: str | None = None  # a GROUP command's answer in a private chat
    slow: bool = False  # its answer takes a moment to make: Telegram shows "typing..."

    @property
    def in_menus(self) -> Where:
        """The menus that list it."""
        return self.menus or self.where


@dataclass(frozen=True)
class Tap:
    """What one button verb does; a personal one is refused in groups."""

    handler: TapHandler
    personal: bool


class Router:
    """One feature's commands, buttons and other entry points, collected by decorators."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.buttons: dict[Verb, Tap] = {}
        # The single handlers of plain text, files and polls (at most one feature each).
        self.plain_text: Callable[[Context, str], Outcome] | None = None
        self.document: Callable[[Context, str, bytes], Outcome] | None = None
        self.document_failed: Callable[[Context, bool], Outcome] | None = None
        self.poll: Callable[[MovieService, str, list[int], bool], Outcome] | None = None

    def command(
        self,
        name: str,
        where: Where,
        *,
        rank: int,
        menu: str | None = None,
        menus: Where | None = None,
        help: str | None = None,
        elsewhere: str | None = None,
        slow: bool = False,
    ) -> Callable[[H], H]:
        """Declare the decorated function as the handler of /`name`."""

        def register(handler: H) -> H:
            self.commands.append(
                Command(name, handler, where, rank, menu, menus, help, elsewhere, slow)
            )
            return handler

        return register

    def tap(self, verb: Verb, *, personal: bool) -> Callable[[H], H]:
        """Declare the decorated function as what a tap on a `verb` button does."""

        def register(handler: H) -> H:
            if verb in self.buttons:
                raise TypeError(f"button verb {verb!r} declared twice")
            self.buttons[verb] = Tap(handler, personal)
            return handler

        return register

    def on(self, kind: str) -> Callable[[H], H]:
        """Declare the decorated function as the handler of `kind`: "plain_text" (a private
        message that is no command), "document", "document_failed" or "poll"."""

        def register(handler: H) -> H:
            if getattr(self, kind) is not None:
                raise TypeError(f"{kind} handled twice")
            setattr(self, kind, handler)
            return handler

        return register
