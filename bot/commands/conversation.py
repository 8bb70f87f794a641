"""The command layer: what a person typed or tapped in, the bot's answer out.

Transport-agnostic: the Telegram adapter and the console chat both call `on_text` and
`on_button` and render the `Outcome`. Every expected problem (unknown title, bad score,
unknown command) becomes a friendly reply here and changes nothing; unexpected errors are the
caller's to log and apologise for.

This module is the door: it reads the message or tap, applies the checks every command
shares (private-only commands, personal buttons, unknown commands, group chatter) and calls
the handler. Each command and each button is declared once, on its handler in its feature
module (bot/commands/features/), and collected by bot/commands/dispatcher.py: its handler,
where it answers, its menu and /help lines. A handler gets a `Context` (bot/commands/router.py).

What a person is in the middle of (bot/commands/state.py) survives a restart in SQLite.
Its two parts, and the handlers that move them:

    part        from              on                                        to
    ----------  ----------------  ----------------------------------------  -------------------
    onboarding  -                 /start                  welcome.start     Onboarding(card 1)
                Onboarding(m)     /start                  welcome.start     Onboarding(m)
                Onboarding(m)     a score tapped for m    rating.tap_rate   Onboarding(next)*
                Onboarding(m)     "Haven't seen it" for m welcome.tap_skip  Onboarding(next)*
    awaiting    -, AwaitingScore  /rate <title>, Rate n, "title"            AwaitingScore(m)
                AwaitingScore(m)  a score typed, or tapped, for m           -
    both        any               /cancel, /forget                          -

    * the next card is service.next_onboarding_movie(user, skipped), asked on every answer;
      "-" (done) after ONBOARDING_SIZE ratings or when no card is left.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bot.commands import dispatcher
from bot.commands.common import INVITE_PREFIX, SORRY_OLD_BUTTON, STILL_LEARNING
from bot.commands.parsing import MAX_MESSAGE, for_another_bot, parse_command
from bot.commands.router import Chat, Context, Sender, Where
from bot.files import history_import
from bot.service import ModelNotReady, MovieService
from bot.ui import callbacks, countries, i18n, names
from bot.ui.html import esc
from bot.ui.i18n import N_, _
from bot.ui.replies import Outcome
from storage import movienight, users
from storage.errors import InvalidArgument, UnknownMovie

__all__ = ["Chat", "Conversation", "Sender"]  # Chat and Sender: what callers pass in

PRIVATE_ONLY = N_(
    "Your ratings stay private: send me /{name} in a private chat and I'll answer you there."
)
PERSONAL_BUTTON = N_("Ratings are private: message me directly.")


class Conversation:
    """The bot's side of every chat: one instance serves everyone, state lives in SQLite."""

    def __init__(self, service: MovieService, bot_username: str | None = None) -> None:
        """Answer for `service`'s catalog; in groups, commands may name `bot_username`."""
        self.service = service
        self.bot_username = bot_username

    @property
    def db(self):
        """The database the service reads (one thread at a time)."""
        return self.service.db

    def _context(self, sender: Sender, chat: Chat, checked_status: str | None = None) -> Context:
        """What a handler gets for this sender in this chat."""
        return Context(self.service, sender, chat, self.bot_username, checked_status)

    def on_text(
        self, sender: Sender, chat: Chat, text: str, checked_status: str | None = None
    ) -> Outcome:
        """Answer one message, in the sender's language; `checked_status`: the sender's
        status in the group of `membership_target`, as Telegram said."""
        with self._speaking_to(sender):
            try:
                return self._on_text(sender, chat, text, checked_status)
            except ModelNotReady:  # a fresh database's first fit is running
                return Outcome.say(_(STILL_LEARNING))

    def membership_target(self, chat: Chat, text: str) -> int | None:
        """The group whose membership of the sender the command in `text` depends on (the
        adapter asks Telegram, getChatMember, before it runs): the group a "rate privately"
        link (/start pool_<token>) stands for, or the group where /invite is typed."""
        parsed = self._membership_command(text)
        if parsed is None:
            return None
        if parsed.name == "start" and chat.is_private and parsed.args.startswith(INVITE_PREFIX):
            return movienight.invited_chat(self.db, parsed.args.removeprefix(INVITE_PREFIX))
        if parsed.name == "invite" and not chat.is_private:
            return chat.chat_id
        return None

    def on_button(self, sender: Sender, chat: Chat, data: str) -> Outcome:
        """Answer one button tap, in the tapper's language."""
        with self._speaking_to(sender):
            try:
                return self._on_button(sender, chat, data)
            except ModelNotReady:
                return Outcome.say(_(STILL_LEARNING))

    def on_document(
        self,
        sender: Sender,
        chat: Chat,
        file_name: str,
        data: bytes,
        prepared: history_import.Prepared | None = None,
    ) -> Outcome:
        """Answer a file sent in a private chat, in the sender's language (a group's files
        are not for the bot); `prepared`: read and planned already (the Telegram adapter's
        import worker, bot/telegram/import_desk.py)."""
        if not chat.is_private:
            return Outcome()
        with self._speaking_to(sender):
            self._remember(sender)
            return dispatcher.DOCUMENT(self._context(sender, chat), file_name, data, prepared)

    def import_snapshot(self, sender: Sender) -> history_import.Snapshot:
        """What reading a file of `sender`'s needs from the database, besides the catalog (in
        the database thread): their language and their history now."""
        return history_import.Snapshot(
            self.language_of(sender), history_import.current_history(self.db, sender.user_id)
        )

    def on_document_not_downloaded(self, sender: Sender, chat: Chat, too_large: bool) -> Outcome:
        """Answer a file that could not be downloaded, in the sender's language."""
        if not chat.is_private:
            return Outcome()
        with self._speaking_to(sender):
            return dispatcher.DOCUMENT_FAILED(self._context(sender, chat), too_large)

    def on_poll(self, poll_id: str, votes: list[int], closed: bool) -> Outcome:
        """Answer a change to one of our polls (each option's vote count)."""
        return dispatcher.POLL(self.service, poll_id, votes, closed)

    @contextmanager
    def _speaking_to(self, sender: Sender) -> Iterator[None]:
        """Answer in the sender's language, with cards for their country."""
        country = countries.country_of(self.db, sender.user_id, sender.language)
        with i18n.speaking(self.language_of(sender)), countries.located(country):
            yield

    def language_of(self, sender: Sender) -> str:
        """The sender's language: the one they picked with /language, else Telegram's."""
        return i18n.language_of(self.db, sender.user_id, sender.language)

    def takes_a_while(self, text: str) -> bool:
        """Whether `text` is a command whose answer is a long list (worth a "typing...")."""
        parsed = parse_command((text or "").strip(), self.bot_username)
        command = dispatcher.COMMANDS_BY_NAME.get(parsed.name) if parsed else None
        return command is not None and command.slow

    def depends_on_membership(self, text: str) -> bool:
        """Whether `text` may be a command `membership_target` names a group for (no
        database: the adapter asks this first, for every message)."""
        return self._membership_command(text) is not None

    def _membership_command(self, text: str):
        parsed = parse_command((text or "").strip()[:MAX_MESSAGE], self.bot_username)
        return parsed if parsed is not None and parsed.name in ("start", "invite") else None

    def _on_text(
        self, sender: Sender, chat: Chat, text: str, checked_status: str | None
    ) -> Outcome:
        """Answer one message. In groups, only commands meant for this bot get an answer."""
        text = (text or "").strip()
        if len(text) > MAX_MESSAGE:
            return Outcome.say(_("That message is too long for me. Titles are short: try again."))
        if for_another_bot(text, self.bot_username):
            return Outcome()
        parsed = parse_command(text, self.bot_username)
        if parsed is None:
            if not chat.is_private:
                return Outcome()  # group chatter
            if text.startswith("/"):
                return Outcome.say(_("That isn't a command I know. /help lists them."))
            self._remember(sender)
            return dispatcher.PLAIN_TEXT(self._context(sender, chat), text)
        command = dispatcher.COMMANDS_BY_NAME.get(parsed.name)
        if command is None:
            if not chat.is_private:
                return Outcome()
            return Outcome.say(
                _("I don't know /{name}. Try /help.").format(name=esc(parsed.name[:32]))
            )
        if not chat.is_private and command.where is Where.PRIVATE:
            return Outcome.say(_(PRIVATE_ONLY).format(name=command.name))
        self._remember(sender)
        if chat.is_private and command.elsewhere is not None:
            return Outcome.say(_(command.elsewhere))
        return command.handler(self._context(sender, chat, checked_status), parsed.args)

    def _on_button(self, sender: Sender, chat: Chat, data: str) -> Outcome:
        """Answer one button tap."""
        callback = callbacks.parse(data)
        if callback is None:
            return Outcome(toast=_(SORRY_OLD_BUTTON))
        self._remember(sender)
        tap = dispatcher.BUTTONS[callback.verb]
        if not chat.is_private and tap.personal:
            return Outcome(toast=_(PERSONAL_BUTTON))
        try:
            return tap.handler(self._context(sender, chat), callback)
        except (UnknownMovie, InvalidArgument):
            return Outcome(toast=_(SORRY_OLD_BUTTON))

    def _remember(self, sender: Sender) -> None:
        """Store (or refresh) the sender's name and language."""
        # Stored cleaned: pool members are listed and drawn by it (bot/ui/names.py).
        name = names.clean_name(sender.display_name)
        users.save_user(self.db, sender.user_id, name, sender.language)
