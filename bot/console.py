"""The console chat: the same conversation as on Telegram, in a terminal or from a pipe.

Buttons are printed as numbered choices; typing #3 taps choice [3] of the latest message that
had buttons; link buttons are printed with their address. Replies are HTML on Telegram: here
the tags are dropped and the entities unescaped. With piped input (one message per line) a
whole session can be scripted. `/import PATH` sends the file at PATH as a Telegram user sends
a document (an IMDb or Letterboxd export); files the bot sends (/export) are written beside
the pictures.

"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

from bot.commands.conversation import Chat, Conversation, Sender
from bot.files import charts, history_export, history_import
from bot.tmdb.films import facts_now
from bot.ui import i18n
from bot.ui.cards import title_link
from bot.ui.html import to_plain
from bot.ui.i18n import N_, _
from bot.ui.posters import poster_caption
from bot.ui.replies import Button, Outcome, Reply
from storage.errors import UnknownMovie
from storage.movies import get_movie

log = logging.getLogger(__name__)

BANNER = N_(
    "moviebot console chat. Type /help for the commands, /quit to leave.\n"
    "Buttons show as [1] [2] ...: type #1 to tap the first."
)
SORRY = N_("Sorry, something went wrong on my side. Please try again.")


class ConsoleChat:
    """One person chatting with the bot in a terminal (or a pipe), always a private chat."""

    def __init__(
        self,
        conversation: Conversation,
        sender: Sender,
        out: TextIO | None = None,
        picture_dir: Path | None = None,
    ) -> None:
        """Talk as `sender` to `out` (default: sys.stdout as it is now, not as it was when this
        module was imported); pictures are written to `picture_dir` (default: here)."""
        self.conversation = conversation
        self.picture_dir = picture_dir or Path.cwd()
        self._pictures = 0
        self.sender = sender
        self.chat = Chat(chat_id=sender.user_id, is_private=True)
        self.out = out if out is not None else sys.stdout
        self._buttons: list[Button] = []

    def run(self, lines: TextIO, interactive: bool) -> None:
        """Answer each line until the input ends or /quit; echo the lines when piped."""
        self._print(self._say(BANNER))
        while True:
            if interactive:
                self.out.write("you> ")
                self.out.flush()
            line = lines.readline()
            if not line:
                break
            text = line.strip()
            if text in {"/quit", "/exit"}:
                break
            if not text:
                continue
            if not interactive:
                self._print(f"you> {text}")
            self.handle(text)

    def handle(self, text: str) -> None:
        """Answer one line: a tap when it is #n, a message otherwise."""
        try:
            if text.startswith("#") and text[1:].isdigit():
                outcome = self._tap(int(text[1:]))
            elif text.startswith("/import ") and text[8:].strip():
                outcome = self._send_file(Path(text[8:].strip()).expanduser())
            else:
                outcome = self.conversation.on_text(self.sender, self.chat, text)
        except Exception:
            log.exception("console message failed")
            outcome = Outcome.say(self._say(SORRY))
        self._show(outcome)

    def _send_file(self, path: Path) -> Outcome:
        """Send the file at `path` to the bot, as a document sent on Telegram."""
        try:
            if path.stat().st_size > history_import.MAX_FILE_BYTES:
                return self.conversation.on_document_not_downloaded(
                    self.sender, self.chat, too_large=True
                )
            data = path.read_bytes()
        except OSError:
            return Outcome.say(
                self._say(N_("I can't read the file {path}. Check the path and try again.")).format(
                    path=path
                )
            )
        return self.conversation.on_document(self.sender, self.chat, path.name, data)

    def _tap(self, number: int) -> Outcome:
        """Tap choice [number] of the latest buttons shown."""
        if not 1 <= number <= len(self._buttons):
            return Outcome.say(
                self._say(N_("There is no such choice. Type #1, #2 ... for the buttons shown."))
            )
        button = self._buttons[number - 1]
        return self.conversation.on_button(self.sender, self.chat, button.data)

    def _show(self, outcome: Outcome) -> None:
        """Print the toast, the edited message and the replies, in that order."""
        if outcome.toast:
            self._print(f"  ({outcome.toast})")
        if outcome.edit is not None:
            self._render(outcome.edit)
        for reply in outcome.replies:
            self._render(reply)

    def _render(self, reply: Reply) -> None:
        """Print one message (with its film's poster URL and lines, with TMDB), its picture's
        file and its buttons as numbered choices."""
        text = reply.text
        if (poster := self._poster(reply)) is not None:
            url, text = poster
            self._print(f"     [poster: {url}]")
        self._print(f"bot> {to_plain(text)}".replace("\n", "\n     "))
        if reply.picture is not None:
            self._print(f"     {self._save_picture(reply)}")
        if reply.document is not None:
            name, data = history_export.render(self.conversation.db, reply.document)
            self.picture_dir.mkdir(parents=True, exist_ok=True)
            (self.picture_dir / name).write_bytes(data)
            self._print(f"     [file: {self.picture_dir / name}]")
        taps = [button for row in reply.buttons for button in row if button.data is not None]
        if taps:
            self._buttons = taps
        number = 0
        for row in reply.buttons:
            cells = []
            for button in row:
                if button.data is None:
                    cells.append(f"{button.label} {button.url}")
                    continue
                number += 1
                cells.append(f"[{number}] {button.label}")
            self._print("     " + "  ".join(cells))

    def _poster(self, reply: Reply) -> tuple[str, str] | None:
        """(the poster's URL, the text with the film's lines) when the reply asks for a poster,
        the bot has a TMDB key and TMDB a poster; the console shows the URL, downloads nothing."""
        tmdb, poster = self.conversation.service.tmdb, reply.poster
        if tmdb is None or poster is None:
            return None
        try:
            movie = get_movie(self.conversation.db, poster.movie_id)
        except UnknownMovie:
            return None
        facts = facts_now(tmdb.config, movie, self.conversation.db)
        url = tmdb.poster_url(facts) if facts is not None else None
        if facts is None or url is None:
            return None
        caption, rest = poster_caption(
            reply.text, title_link(movie), facts, poster.language, poster.country
        )
        return url, caption if rest is None else f"{caption}\n\n{rest}"

    def _save_picture(self, reply: Reply) -> str:
        """Draw the reply's chart into a PNG file; say where it is (or why there is none)."""
        # Imported here: matplotlib is a third of the console's start-up, and only /taste and
        # /map draw.
        from bot.files import pictures

        try:
            data = pictures.gather(self.conversation.service, reply.picture)
        except charts.ChartError as error:
            no_picture = self._say(N_("(no picture)"))
            return pictures.instead_of_picture(error, no_picture, reply.picture.language).replace(
                "\n\n", " "
            )
        self._pictures += 1
        self.picture_dir.mkdir(parents=True, exist_ok=True)
        path = self.picture_dir / f"moviebot-{reply.picture.kind}-{self._pictures}.png"
        path.write_bytes(pictures.draw(reply.picture, data))
        return f"[picture: {path}]"

    def _say(self, message: str) -> str:
        """`message` in the language the conversation answers the sender in."""
        with i18n.speaking(self.conversation.language_of(self.sender)):
            return _(message)

    def _print(self, text: str) -> None:
        """Write one line and flush it (a pipe sees it at once)."""
        self.out.write(text + "\n")
        self.out.flush()
