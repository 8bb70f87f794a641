"""The dispatcher: every feature's router in one place, and what is derived from them.

A feature module (bot/commands/features/) declares its commands and buttons on their handlers
(bot/commands/router.py). Here they are collected: COMMANDS in their menu order (each
command's `rank`, so the order of ROUTERS does not matter), BUTTONS by verb, the handlers of
plain text, files and polls, the Telegram menus and /help. At import it checks that every
command is declared once, every button verb has one handler, and group commands (only they)
say where they work.
"""

from __future__ import annotations

from bot.commands.common import catalog_coverage
from bot.commands.features import (
    account,
    alert_schedule,
    alerts,
    groups,
    history,
    lists,
    picks,
    rating,
    taste,
    welcome,
)
from bot.commands.router import Command, Context, Router, Tap, Where
from bot.ui.callbacks import Verb
from bot.ui.html import esc
from bot.ui.i18n import N_, _
from bot.ui.replies import Outcome

HELP_INTRO = N_("I learn your taste in movies from your ratings and recommend what to watch next.")

router = Router()


@router.command("help", Where.BOTH, rank=210, menu=N_("What I can do"))
def help_command(ctx: Context, args: str) -> Outcome:
    """List the commands, then say what the catalog covers."""
    return Outcome.say(f"{help_text()}\n\n{esc(catalog_coverage(ctx))}")


ROUTERS: tuple[Router, ...] = (
    welcome.router,
    rating.router,
    picks.router,
    lists.router,
    groups.router,
    taste.router,
    history.router,
    account.router,
    alerts.router,
    alert_schedule.router,
    router,
)

COMMANDS: tuple[Command, ...] = tuple(
    sorted((c for r in ROUTERS for c in r.commands), key=lambda c: c.rank)
)
COMMANDS_BY_NAME = {command.name: command for command in COMMANDS}
BUTTONS: dict[Verb, Tap] = {verb: tap for r in ROUTERS for verb, tap in r.buttons.items()}


def _the_one(kind: str):
    """The single handler of `kind` among the routers."""
    handlers = [getattr(r, kind) for r in ROUTERS if getattr(r, kind) is not None]
    if len(handlers) != 1:
        raise TypeError(f"{kind} needs exactly one handler, not {len(handlers)}")
    return handlers[0]


PLAIN_TEXT = _the_one("plain_text")
DOCUMENT = _the_one("document")
DOCUMENT_FAILED = _the_one("document_failed")
POLL = _the_one("poll")

if len(COMMANDS_BY_NAME) != len(COMMANDS) or len({c.rank for c in COMMANDS}) != len(COMMANDS):
    raise TypeError("every command needs one declaration and its own rank")
if sum(len(r.buttons) for r in ROUTERS) != len(BUTTONS) or BUTTONS.keys() != set(Verb):
    raise TypeError("every button verb needs one handler (Router.tap), and only one")
if any((c.where is Where.GROUP) != (c.elsewhere is not None) for c in COMMANDS):
    raise TypeError("group commands, and only they, say where they work (elsewhere)")


def menu(chats: Where) -> list[tuple[str, str]]:
    """(command, description) for the Telegram menu of private or of group chats, in the
    current language (bot/ui/i18n.py's `speaking`)."""
    return [(c.name, _(c.menu)) for c in COMMANDS if c.menu and c.in_menus in (chats, Where.BOTH)]


def help_text() -> str:
    """/help (HTML): one line per command of private chats, then one line for the group
    commands."""
    lines = [_(c.help) for c in COMMANDS if c.help and c.where is not Where.GROUP]
    group = [_(c.help) for c in COMMANDS if c.help and c.where is Where.GROUP]
    in_a_group = _("In a group: {commands}.").format(commands=", ".join(group))
    return esc("\n".join([_(HELP_INTRO), "", *lines, in_a_group]))
