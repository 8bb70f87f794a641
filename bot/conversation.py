"""The command layer: what a person typed or tapped in, the bot's answer out.

Transport-agnostic: the Telegram adapter and the console chat both call `on_text` and
`on_button` and render the `Outcome`. Every expected problem (unknown title, bad score,
unknown command) becomes a friendly reply here and changes nothing; unexpected errors are the
caller's to log and apologise for.

Each command and each button is declared once, in COMMANDS and BUTTONS at the end of this
module: its handler, where it answers, its menu and /help lines. HELP, the Telegram menus, the
routing and the private-only and personal checks are all read from there.

What a person is in the middle of (bot/conversation_state.py) survives a restart in SQLite.
Its two parts, and the handlers that move them:

    part        from              on                                        to
    ----------  ----------------  ----------------------------------------  -------------------
    onboarding  -                 /start                        _start      Onboarding(card 1)
                Onboarding(m)     /start                        _start      Onboarding(m)
                Onboarding(m)     a score tapped for m          _tap_rate   Onboarding(next)*
                Onboarding(m)     "Haven't seen it" for m       _tap_skip   Onboarding(next)*
    awaiting    -, AwaitingScore  /rate <title>, Rate n, "title"            AwaitingScore(m)
                AwaitingScore(m)  a score typed, or tapped, for m           -
    both        any               /cancel, /forget                          -

    * the next card is service.next_onboarding_movie(user, skipped), asked on every answer;
      "-" (done) after ONBOARDING_SIZE ratings or when no card is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum

from bot import callbacks, genres, history_import, i18n, names
from bot import conversation_state as states
from bot.callbacks import Verb
from bot.cards import bold_link, describe, link_buttons, title_link
from bot.conversation_state import IDLE, ConversationState, NextCard, Onboarding, OnboardingDone
from bot.html import bold, esc
from bot.i18n import N_, _, ngettext
from bot.parsing import (
    MAX_MESSAGE,
    BadScore,
    for_another_bot,
    parse_command,
    parse_count,
    parse_score,
    parse_years,
    split_title_and_score,
)
from bot.replies import Button, Document, Outcome, Picture, PollRequest, Reply, split_text
from bot.service import ONBOARDING_SIZE, MovieService
from storage import chats, imports, movienight, ratings, state, users, watchlist
from storage import settings as user_settings
from storage.errors import InvalidArgument, UnknownMovie, UnknownUser
from storage.movies import Movie, all_genres, get_movie
from storage.search import MAX_QUERY_LENGTH, Kind, TitleMatch, clear_winner

DEFAULT_RECOMMENDATIONS = 10
MAX_RECOMMENDATIONS = 50
BUTTONS_FOR_FIRST = 10  # rate/hide buttons for this many recommendations (Telegram caps at 100)
RATINGS_PAGE = 10
HIDDEN_PAGE = 10
WATCHLIST_PAGE = 10

HELP_INTRO = N_("I learn your taste in movies from your ratings and recommend what to watch next.")
RATE_USAGE = N_("Tell me the title and a score from 1 to 10, like: /rate Ted 8")
BAD_SCORE = N_("Scores are whole numbers from 1 to 10, like: /rate Ted 8. Nothing was saved.")
PRIVATE_ONLY = N_(
    "Your ratings stay private: send me /{name} in a private chat and I'll answer you there."
)
PERSONAL_BUTTON = N_("Ratings are private: message me directly.")
SORRY_OLD_BUTTON = N_("That button has expired. Try the command again.")
NO_RATINGS_FOR_PICTURE = N_(
    "Rate a few movies first (/start, or /rate Ted 8), then I can draw your taste."
)
DATA_DELETED = N_(
    "You deleted your data with /forget, so I didn't save this score. To start again, rate "
    "afresh: /start or /rate Ted 8."
)
# What /language offers, in its buttons' order; None: as the user's Telegram is set.
LANGUAGE_CHOICES: tuple[str | None, ...] = (None, *i18n.LANGUAGES)
# Backups of the database are daily and each is kept this long (deploy/moviebot-backup.service).
BACKUP_DAYS = 14
# /settings' "how adventurous" levels (storage/settings.py), as the buttons say them.
ADVENTURE_LABELS = {
    user_settings.POPULAR: N_("Popular"),
    user_settings.BALANCED: N_("Balanced"),
    user_settings.HIDDEN_GEMS: N_("Hidden gems"),
}
# A /movienight poll offers the pool's top picks; Telegram takes 2-12 options of 1-100 chars.
NIGHT_OPTIONS = 5
MAX_OPTION = 100
# /start's payload from the "rate privately" deep link: pool_<the group's invite token>.
INVITE_PREFIX = "pool_"
# Commands whose answer takes a moment to make (long lists): Telegram shows "typing..." meanwhile.
LONG_ANSWERS = frozenset({"recommend", "grouprec", "similar"})


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


class Where(Enum):
    """The chats a command is for."""

    PRIVATE = "private"  # a group is told to ask in private (PRIVATE_ONLY)
    GROUP = "group"  # a private chat is told where it works (the command's `elsewhere`)
    BOTH = "both"


@dataclass(frozen=True)
class Command:
    """One command, declared once (COMMANDS)."""

    name: str
    handler: Callable[[Conversation, Sender, Chat, str], Outcome]
    where: Where
    menu: str | None = None  # its line in the Telegram command menus
    menus: Where | None = None  # which menus list it; None: the chats it is for
    help: str | None = None  # its /help line; a group command's is part of one group line
    elsewhere: str | None = None  # a GROUP command's answer in a private chat

    @property
    def in_menus(self) -> Where:
        """The menus that list it."""
        return self.menus or self.where


@dataclass(frozen=True)
class Tap:
    """What one button verb does (BUTTONS); a personal one is refused in groups."""

    handler: Callable[[Conversation, Sender, Chat, callbacks.Callback], Outcome]
    personal: bool


def score_buttons(movie_id: int, with_skip: bool = False) -> tuple[tuple[Button, ...], ...]:
    """Two rows of 1-10, and "Haven't seen it" for onboarding."""
    rows = [
        tuple(Button(str(s), callbacks.encode(Verb.RATE, movie_id, s)) for s in range(1, 6)),
        tuple(Button(str(s), callbacks.encode(Verb.RATE, movie_id, s)) for s in range(6, 11)),
    ]
    if with_skip:
        rows.append((Button(_("Haven't seen it"), callbacks.encode(Verb.SKIP, movie_id)),))
    return tuple(rows)


class Conversation:
    """The bot's side of every chat: one instance serves everyone, state lives in SQLite."""

    def __init__(self, service: MovieService, bot_username: str | None = None) -> None:
        """Answer for `service`'s catalog; in groups, commands may name `bot_username`."""
        self.service = service
        self.bot_username = bot_username
        self._genres: dict[str, str] | None = None

    @property
    def db(self):
        """The database the service reads (one thread at a time)."""
        return self.service.db

    # ------------------------------------------------------------------ entry points

    def on_text(self, sender: Sender, chat: Chat, text: str) -> Outcome:
        """Answer one message, in the sender's language."""
        with i18n.speaking(self.language_of(sender)):
            return self._on_text(sender, chat, text)

    def on_button(self, sender: Sender, chat: Chat, data: str) -> Outcome:
        """Answer one button tap, in the tapper's language."""
        with i18n.speaking(self.language_of(sender)):
            return self._on_button(sender, chat, data)

    def language_of(self, sender: Sender) -> str:
        """The sender's language: the one they picked with /language, else Telegram's."""
        return i18n.language_of(self.db, sender.user_id, sender.language)

    def _on_text(self, sender: Sender, chat: Chat, text: str) -> Outcome:
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
            return self._plain_text(sender, text)
        command = COMMANDS_BY_NAME.get(parsed.name)
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
        return command.handler(self, sender, chat, parsed.args)

    def _on_button(self, sender: Sender, chat: Chat, data: str) -> Outcome:
        """Answer one button tap."""
        callback = callbacks.parse(data)
        if callback is None:
            return Outcome(toast=_(SORRY_OLD_BUTTON))
        self._remember(sender)
        tap = BUTTONS[callback.verb]
        if not chat.is_private and tap.personal:
            return Outcome(toast=_(PERSONAL_BUTTON))
        try:
            return tap.handler(self, sender, chat, callback)
        except (UnknownMovie, InvalidArgument):
            return Outcome(toast=_(SORRY_OLD_BUTTON))

    def on_document(self, sender: Sender, chat: Chat, file_name: str, data: bytes) -> Outcome:
        """Answer a file sent in a private chat, in the sender's language."""
        with i18n.speaking(self.language_of(sender)):
            return self._on_document(sender, chat, file_name, data)

    def on_document_not_downloaded(self, sender: Sender, chat: Chat, too_large: bool) -> Outcome:
        """Answer a file that could not be downloaded, in the sender's language."""
        with i18n.speaking(self.language_of(sender)):
            return self._on_document_not_downloaded(sender, chat, too_large)

    def _on_document(self, sender: Sender, chat: Chat, file_name: str, data: bytes) -> Outcome:
        """Answer a file sent in a private chat: preview the IMDb or Letterboxd export it
        holds, with a button that imports it (a group's files are not for the bot)."""
        if not chat.is_private:
            return Outcome()
        self._remember(sender)
        try:
            rows = history_import.read_file(data, file_name)
        except history_import.BadFile as error:
            return Outcome.say(esc(str(error)))
        history = history_import.current_history(self.db, sender.user_id)
        matcher = self.service.history_matcher
        plan = history_import.plan_import(rows, matcher, history)
        # The file's own titles are in these lines: plain text, escaped for HTML.
        lines = [esc(line) for line in history_import.preview_lines(plan, matcher.labels)]
        if not plan.has_changes:
            imports.drop_pending(self.db, sender.user_id)
            lines.append(
                _("Nothing to import: everything I can use from this file is here already.")
            )
            return Outcome(replies=[Reply(chunk) for chunk in split_text(lines)])
        imports.save_pending(self.db, sender.user_id, plan.to_json())
        lines.append(
            _("Tap to import (within {minutes} minutes).").format(minutes=imports.PENDING_MINUTES)
        )
        buttons = [Button(_("Import"), callbacks.encode(Verb.IMPORT, plan.id, 1))]
        if plan.different:
            n = len(plan.different)
            label = ngettext(
                "Import, use the file's {n} score", "Import, use the file's {n} scores", n
            ).format(n=n)
            buttons.append(Button(label, callbacks.encode(Verb.IMPORT, plan.id, 2)))
        rows_of_buttons = tuple((b,) for b in buttons) + (
            (Button(_("Cancel"), callbacks.encode(Verb.IMPORT, plan.id, 0)),),
        )
        chunks = split_text(lines)
        replies = [Reply(chunk) for chunk in chunks[:-1]]
        replies.append(Reply(chunks[-1], rows_of_buttons))
        return Outcome(replies=replies)

    def _on_document_not_downloaded(self, sender: Sender, chat: Chat, too_large: bool) -> Outcome:
        """Answer a file that could not be downloaded: over Telegram's getFile cap, or
        Telegram did not hand it over."""
        if not chat.is_private:
            return Outcome()
        if too_large:
            return Outcome.say(esc(history_import.too_large_message()))
        return Outcome.say(_("I couldn't fetch that file from Telegram. Please send it again."))

    def takes_a_while(self, text: str) -> bool:
        """Whether `text` is a command whose answer is a long list (worth a "typing...")."""
        parsed = parse_command((text or "").strip(), self.bot_username)
        return parsed is not None and parsed.name in LONG_ANSWERS

    def on_poll(self, poll_id: str, votes: list[int], closed: bool) -> Outcome:
        """Announce a movie night's winner when its poll closes (each option's vote count;
        the poll is anonymous, so nothing says who voted for what)."""
        night = movienight.night_of_poll(self.db, poll_id)
        if night is None or night.closed or not closed or len(votes) != len(night.movie_ids):
            return Outcome()
        # The group hears the winner in the language of the one who opened the vote.
        with i18n.speaking(self._stored_language(night.opened_by)):
            return self._announce_winner(night, votes)

    def _stored_language(self, user_id: int | None) -> str:
        """A known user's language, read from storage (no message of theirs at hand)."""
        if user_id is None:
            return i18n.DEFAULT
        try:
            telegram = users.get_user(self.db, user_id).language
        except UnknownUser:
            return i18n.DEFAULT
        return i18n.language_of(self.db, user_id, telegram)

    def _announce_winner(self, night: movienight.Night, votes: list[int]) -> Outcome:
        """Close the night and say which movie won."""
        # A tie goes to the option ranked higher for the group (listed first).
        best = max(range(len(votes)), key=lambda i: (votes[i], -i))
        winner = get_movie(self.db, night.movie_ids[best])
        movienight.close_night(self.db, night.id, winner.id)
        total = sum(votes)
        if total == 0:
            text = "🍿 " + _("Nobody voted, so it's the group's top pick: {title}.").format(
                title=bold_link(winner)
            )
        elif votes.count(votes[best]) > 1:
            text = "🍿 " + ngettext(
                "The vote is in: {title} wins with {votes} of {total} vote (a tie: the group's "
                "higher pick wins). Enjoy the movie!",
                "The vote is in: {title} wins with {votes} of {total} votes (a tie: the group's "
                "higher pick wins). Enjoy the movie!",
                total,
            ).format(title=bold_link(winner), votes=votes[best], total=total)
        else:
            text = "🍿 " + ngettext(
                "The vote is in: {title} wins with {votes} of {total} vote. Enjoy the movie!",
                "The vote is in: {title} wins with {votes} of {total} votes. Enjoy the movie!",
                total,
            ).format(title=bold_link(winner), votes=votes[best], total=total)
        reply = Reply(text, (link_buttons(winner),), preview_url=winner.imdb_url)
        return Outcome(replies=[reply], chat_id=night.chat_id, thread_id=night.thread_id)

    def _remember(self, sender: Sender) -> None:
        """Store (or refresh) the sender's name and language."""
        # Stored cleaned: pool members are listed and drawn by it (bot/names.py).
        name = names.clean_name(sender.display_name)
        users.save_user(self.db, sender.user_id, name, sender.language)

    # ------------------------------------------------------------------ commands

    def _help(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """List the commands."""
        return Outcome.say(help_text())

    def _start(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Greet, then show the first onboarding card (or the one left open)."""
        if not chat.is_private:
            return Outcome.say(
                _(
                    "Hi! I recommend movies. In this group, /join the pool and use /grouprec for "
                    "picks everyone will like. Rate movies with me in a private chat."
                )
            )
        name = esc(names.first_name(sender.display_name, fallback=_("there")))
        joined = self._join_by_invite(sender, args)
        before = self._state(sender)
        progress: Onboarding | OnboardingDone
        if before.onboarding is None:
            progress = Onboarding.begin(self._next_card(sender))
            intro = _(
                "Hi {name}! I recommend movies from your ratings. Let's start with a few "
                "well-known ones: rate each from 1 (awful) to 10 (loved it), or tap "
                '"Haven\'t seen it". About {size} ratings are enough to begin.'
            ).format(name=name, size=ONBOARDING_SIZE)
        else:
            progress = before.onboarding
            intro = _("Welcome back, {name}! Let's carry on where we left off.").format(name=name)
        outcome = self._onboarding_step(sender, before, progress)
        outcome.replies.insert(0, Reply(intro))
        if joined is not None:
            outcome.replies.insert(0, Reply(joined))
        return outcome

    def _join_by_invite(self, sender: Sender, payload: str) -> str | None:
        """Join the pool a "rate privately" deep link stands for; what to say about it (None
        when /start came without one)."""
        if not payload.startswith(INVITE_PREFIX):
            return None
        chat_id = movienight.invited_chat(self.db, payload.removeprefix(INVITE_PREFIX))
        if chat_id is None:
            return _("That invite link isn't one of mine. Ask in the group for a fresh /grouprec.")
        if chats.join_pool(self.db, chat_id, sender.user_id):
            return _("You joined the group's movie pool: your ratings here shape its picks.")
        return _("You're already in that group's movie pool.")

    def _invite_button(self, chat: Chat) -> tuple[tuple[Button, ...], ...]:
        """The "rate privately" deep link for a group: it joins the pool and starts rating."""
        if not self.bot_username:
            return ()
        token = movienight.invite_token(self.db, chat.chat_id)
        url = f"https://t.me/{self.bot_username}?start={INVITE_PREFIX}{token}"
        return ((Button(_("Join & rate privately") + " ↗", url=url),),)

    def _rate(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Store the rating, or ask for the score or which movie was meant."""
        if not args:
            return Outcome.say(_(RATE_USAGE))
        try:
            title, score = split_title_and_score(args)
        except BadScore:
            return Outcome.say(_(BAD_SCORE))
        return self._resolve_title(
            title,
            on_found=lambda movie: self._rate_or_ask(sender, movie, score),
            pick=lambda match: callbacks.encode(Verb.PICK_RATE, match.movie_id, score or 0),
        )

    def _recommend(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """List the sender's top picks, optionally of a genre and from some years."""
        usage = _(
            "Ask like /recommend, /recommend 5, /recommend 5 comedy or /recommend 5 comedy "
            "1990s (1 to {max} movies; years like 1994, 90s or 1990-2005)."
        ).format(max=MAX_RECOMMENDATIONS)
        n, genre, years = DEFAULT_RECOMMENDATIONS, None, None
        for token in args.split():
            if (span := parse_years(token)) is not None:
                years = span
            elif token.isdigit() or token.lstrip("+-").replace(".", "").isdigit():
                count = parse_count(token, DEFAULT_RECOMMENDATIONS, MAX_RECOMMENDATIONS)
                if count is None:
                    return Outcome.say(usage)
                n = count
            elif token.casefold() in self.genres:
                genre = self.genres[token.casefold()]
            else:
                known = ", ".join(sorted(genres.typed(g) for g in set(self.genres.values()))[:20])
                return Outcome.say(
                    _('I don\'t know the genre "{genre}". Try one of: {known}.').format(
                        genre=esc(token[:40]), known=esc(known)
                    )
                )
        picks = self.service.recommend(sender.user_id, n, genre, years)
        if not picks:
            return Outcome.say(_("I have nothing left to recommend with that filter."))
        cold = ratings.count_user_ratings(self.db, sender.user_id) == 0
        if cold:
            header = _(
                "You haven't rated anything yet, so these are the best-rated {movies}. "
                "Rate a few (/start) and I'll pick for your taste."
            ).format(movies=_movies_label(genre, years))
        else:
            header = _top_picks_header(len(picks), genre, years)
        lines = [bold(header)]
        for i, pick in enumerate(picks, start=1):
            listed = esc(genres.shown_list(pick.movie.genres[:3]) or _("no genres listed"))
            score = i18n.decimal(pick.score)
            lines.append(f"\n{i}. {title_link(pick.movie)} · {score}/10 · {listed}")
            if pick.because:
                movie, rating = pick.because
                because = _("because you rated {title} {rating}")
                lines.append("   " + because.format(title=esc(movie.title), rating=rating))
        # The top pick is the card: its preview (Telegram draws the poster) and its links.
        top = picks[0].movie
        buttons = [link_buttons(top)]
        for i, pick in enumerate(picks[:BUTTONS_FOR_FIRST], start=1):
            movie_id = pick.movie.id
            buttons.append(
                (
                    Button(_("Rate {n}").format(n=i), callbacks.encode(Verb.ASK_SCORE, movie_id)),
                    Button(_("Save {n}").format(n=i), callbacks.encode(Verb.SAVE, movie_id)),
                    Button(_("Seen {n}").format(n=i), callbacks.encode(Verb.SEEN, movie_id)),
                    Button(_("Hide {n}").format(n=i), callbacks.encode(Verb.HIDE, movie_id)),
                )
            )
        chunks = split_text(lines)
        replies = [Reply(chunk) for chunk in chunks[:-1]]
        replies.append(Reply(chunks[-1], tuple(buttons)))
        replies[0] = replace(replies[0], preview_url=top.imdb_url)
        return Outcome(replies=replies)

    def _similar(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """List movies like the one named, or ask which one was meant."""
        if not args:
            return Outcome.say(_("Tell me a movie, like: /similar Frozen"))
        return self._resolve_title(
            args,
            on_found=lambda movie: self._similar_to(movie, with_save=chat.is_private),
            pick=lambda match: callbacks.encode(Verb.PICK_SIMILAR, match.movie_id),
        )

    def _my_ratings(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Show a page of the sender's ratings."""
        page = parse_count(args, 1, 100_000) if args else 1
        if page is None:
            return Outcome.say(_("Ask like /myratings or /myratings 2 (a page number)."))
        return Outcome(replies=[self._ratings_page(sender, page)])

    def _undo(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Remove the sender's last rating and say which it was."""
        undone = ratings.undo_last_rating(self.db, sender.user_id)
        if undone is None:
            return Outcome.say(_("There is no rating left to undo. /rate Ted 8 rates a movie."))
        movie, rating = undone
        return Outcome.say(
            _(
                "Removed your rating of {title} ({rating}/10). /undo again removes the one "
                "before; /myratings lists the rest."
            ).format(title=esc(movie.label[:150]), rating=rating)
        )

    def _hidden(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Show a page of the movies the sender hid."""
        page = parse_count(args, 1, 100_000) if args else 1
        if page is None:
            return Outcome.say(_("Ask like /hidden or /hidden 2 (a page number)."))
        return Outcome(replies=[self._hidden_page(sender, page)])

    def _watchlist(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Show a page of the sender's watchlist."""
        page = parse_count(args, 1, 100_000) if args else 1
        if page is None:
            return Outcome.say(_("Ask like /watchlist or /watchlist 2 (a page number)."))
        return Outcome(replies=[self._watchlist_page(sender, page)])

    def _import(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Say how to bring a history from IMDb or Letterboxd."""
        return Outcome.say(
            _(
                "Send me your ratings as a file and I'll import them:\n"
                "• IMDb: imdb.com → Your ratings → ⋯ → Export, then send the ratings CSV.\n"
                "• Letterboxd: Settings → Data → Export your data, then send the .zip (or its "
                "ratings.csv, watched.csv or watchlist.csv).\n"
                "I show what I found before anything is saved."
            )
        )

    def _export(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Send the sender's ratings and watchlist as files for Letterboxd and IMDb tools."""
        count = ratings.count_user_ratings(self.db, sender.user_id)
        saved = watchlist.count_watchlist(self.db, sender.user_id)
        if count == 0 and saved == 0:
            return Outcome.say(_("You have no ratings or watchlist to export yet."))
        replies = []
        if count:
            replies.append(
                Reply(
                    ngettext(
                        "Your {count} rating for Letterboxd (letterboxd.com/import).",
                        "Your {count} ratings for Letterboxd (letterboxd.com/import).",
                        count,
                    ).format(count=count),
                    document=Document("letterboxd", sender.user_id),
                )
            )
            replies.append(
                Reply(
                    _("The same in IMDb's export layout (movies with an IMDb id)."),
                    document=Document("imdb", sender.user_id),
                )
            )
        if saved:
            replies.append(
                Reply(
                    _("Your watchlist ({saved}) for Letterboxd's watchlist import.").format(
                        saved=saved
                    ),
                    document=Document("letterboxd-watchlist", sender.user_id),
                )
            )
        return Outcome(replies=replies)

    def _taste(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Ask for the picture of the sender's taste."""
        count = ratings.count_user_ratings(self.db, sender.user_id)
        if count == 0:
            return Outcome.say(_(NO_RATINGS_FOR_PICTURE))
        caption = ngettext(
            "Your taste, from your {count} rating.", "Your taste, from your {count} ratings.", count
        ).format(count=count)
        return Outcome(replies=[Reply(caption, picture=Picture("taste", sender.user_id))])

    def _map(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Ask for the movie map, with the named movie marked."""
        if ratings.count_user_ratings(self.db, sender.user_id) == 0:
            return Outcome.say(_(NO_RATINGS_FOR_PICTURE))

        def draw(focus: Movie | None) -> Outcome:
            """Ask for the map, with `focus` marked."""
            caption = _(
                "Where your taste sits: movies close together are liked by the same people."
            )
            if focus is not None:
                caption += " " + _("Marked: {title}.").format(title=esc(focus.label))
            picture = Picture("map", sender.user_id, focus.id if focus else None)
            return Outcome(replies=[Reply(caption, picture=picture)])

        if not args:
            return draw(None)
        return self._resolve_title(args, on_found=draw, pick=self._map_pick)

    def _map_pick(self, match: TitleMatch) -> str:
        """The button data for one candidate of an ambiguous /map title."""
        # Ambiguous /map titles are rare; the choice draws the map without a focus question.
        return callbacks.encode(Verb.PICK_MAP, match.movie_id)

    def _forget(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Ask before deleting everything about the sender."""
        count = ratings.count_user_ratings(self.db, sender.user_id)
        return Outcome.say(
            ngettext(
                "This deletes your {count} rating and everything else I know about you. "
                "Are you sure?",
                "This deletes your {count} ratings and everything else I know about you. "
                "Are you sure?",
                count,
            ).format(count=count),
            (
                (
                    Button(_("Yes, delete everything"), callbacks.encode(Verb.FORGET, 1)),
                    Button(_("No, keep it"), callbacks.encode(Verb.FORGET, 0)),
                ),
            ),
        )

    def _settings(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Show the sender's settings with buttons to change them."""
        return Outcome(replies=[self._settings_card(sender)])

    def _settings_card(self, sender: Sender) -> Reply:
        """The settings message: what is set, and a button for every change."""
        chosen = user_settings.get_settings(self.db, sender.user_id)
        excluded = genres.shown_list(chosen.excluded_genres) or _("nothing excluded")
        picked = users.chosen_language(self.db, sender.user_id)
        lines = [
            bold(_("Your settings")),
            _("Never recommend: {genres}").format(genres=esc(excluded)),
            _("How adventurous: {level}").format(level=_(ADVENTURE_LABELS[chosen.adventurous])),
            _("Language: {language}").format(language=i18n.LANGUAGES[i18n.current()]),
            "",
            _("Tap a level, or a genre to exclude it (tap again to allow it)."),
        ]
        levels = tuple(
            Button(
                _(label) + (" ✓" if level == chosen.adventurous else ""),
                callbacks.encode(Verb.SET_ADVENTURE, level),
            )
            for level, label in ADVENTURE_LABELS.items()
        )
        catalog = sorted(set(self.genres.values()))
        cells = [
            Button(
                ("🚫 " if genre in chosen.excluded_genres else "") + genres.shown(genre),
                callbacks.encode(Verb.SET_GENRE, index),
            )
            for index, genre in enumerate(catalog)
        ]
        # The language row: Telegram's, or one picked; the tap redraws this card in it.
        languages = tuple(
            Button(
                (i18n.LANGUAGES[code] if code else _("As my Telegram is set"))
                + (" ✓" if code == picked else ""),
                callbacks.encode(Verb.LANGUAGE, n, 1),
            )
            for n, code in enumerate(LANGUAGE_CHOICES)
        )
        rows = [levels] + [tuple(cells[i : i + 3]) for i in range(0, len(cells), 3)]
        rows += [languages[:2], languages[2:]]
        return Reply("\n".join(lines), tuple(rows))

    def _tap_set_adventure(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Set how adventurous the sender's picks are."""
        if cb.target not in ADVENTURE_LABELS:
            return Outcome(toast=_(SORRY_OLD_BUTTON))
        chosen = user_settings.get_settings(self.db, sender.user_id)
        user_settings.save_settings(self.db, sender.user_id, replace(chosen, adventurous=cb.target))
        toast = _("Picks: {level}").format(level=_(ADVENTURE_LABELS[cb.target]).lower())
        return Outcome(edit=self._settings_card(sender), toast=toast)

    def _tap_set_genre(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Exclude a genre from the sender's recommendations, or allow it again."""
        catalog = sorted(set(self.genres.values()))
        if not 0 <= cb.target < len(catalog):
            return Outcome(toast=_(SORRY_OLD_BUTTON))
        genre = catalog[cb.target]
        chosen = user_settings.get_settings(self.db, sender.user_id)
        if genre in chosen.excluded_genres:
            excluded = tuple(g for g in chosen.excluded_genres if g != genre)
            toast = _("{genre} is back in your picks").format(genre=genres.shown(genre))
        else:
            excluded = (*chosen.excluded_genres, genre)
            toast = _("No more {genre}").format(genre=genres.shown(genre))
        if len(excluded) > user_settings.MAX_EXCLUDED:
            return Outcome(toast=_("That's every genre: allow one again first."))
        user_settings.save_settings(
            self.db, sender.user_id, replace(chosen, excluded_genres=excluded)
        )
        return Outcome(edit=self._settings_card(sender), toast=toast)

    def _language(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Switch to the language named, or offer the languages as buttons."""
        if args:
            wanted = args.strip().casefold()
            for code in LANGUAGE_CHOICES:
                if wanted in (
                    {"auto"} if code is None else {code, i18n.LANGUAGES[code].casefold()}
                ):
                    return Outcome.say(self._speak(sender, code))
            known = ", ".join(f"{name} ({code})" for code, name in i18n.LANGUAGES.items())
            return Outcome.say(
                _("I speak {languages}. Choose like: /language es").format(languages=known)
            )
        rows = tuple(
            (
                Button(
                    i18n.LANGUAGES[code] if code else _("As my Telegram is set"),
                    callbacks.encode(Verb.LANGUAGE, n),
                ),
            )
            for n, code in enumerate(LANGUAGE_CHOICES)
        )
        # Each catalogue names its own language: this is said in the language it names.
        return Outcome.say(_("I speak English with you. Which language do you want?"), rows)

    def _speak(self, sender: Sender, code: str | None) -> str:
        """Store the language chosen (None: Telegram's) and say so in it."""
        users.choose_language(self.db, sender.user_id, code)
        with i18n.speaking(self.language_of(sender)):
            return _("Okay, I'll speak English with you.")

    def _tap_language(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Switch to the language tapped: say so, or redraw /settings in it (value 1)."""
        if not 0 <= cb.target < len(LANGUAGE_CHOICES):
            return Outcome(toast=_(SORRY_OLD_BUTTON))
        said = self._speak(sender, LANGUAGE_CHOICES[cb.target])
        if cb.value != 1:
            return Outcome(edit=Reply(said))
        with i18n.speaking(self.language_of(sender)):
            return Outcome(edit=self._settings_card(sender), toast=said)

    def _cancel(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Drop the onboarding and any question waiting for a score."""
        had = self._state(sender)
        states.save(self.db, sender.user_id, IDLE)
        if had != IDLE:
            return Outcome.say(_("Okay, dropped that. /help shows what I can do."))
        return Outcome.say(_("There was nothing to cancel. /help shows what I can do."))

    def _join(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Add the sender to the group's pool."""
        added = chats.join_pool(self.db, chat.chat_id, sender.user_id)
        size = len(chats.pool_members(self.db, chat.chat_id))
        who = esc(self._first_name(sender.display_name))
        if not added:
            return Outcome.say(
                ngettext(
                    "{name}, you're already in this chat's pool ({size} in it).",
                    "{name}, you're already in this chat's pool ({size} in it).",
                    size,
                ).format(name=who, size=size)
            )
        return Outcome.say(
            ngettext(
                "{name} joined this chat's movie pool ({size} in it). /grouprec for shared "
                "picks; your own ratings stay private.",
                "{name} joined this chat's movie pool ({size} in it). /grouprec for shared "
                "picks; your own ratings stay private.",
                size,
            ).format(name=who, size=size)
        )

    def _leave(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Take the sender out of the group's pool."""
        removed = chats.leave_pool(self.db, chat.chat_id, sender.user_id)
        who = esc(self._first_name(sender.display_name))
        if not removed:
            return Outcome.say(_("{name}, you weren't in this chat's pool.").format(name=who))
        return Outcome.say(_("{name} left this chat's movie pool.").format(name=who))

    def _group_recommend(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """List picks for everyone in the group's pool, with a picture of their scores."""
        words = args.split()
        from_watchlists = bool(words) and words[0].casefold() == "watchlist"
        if from_watchlists:
            args = " ".join(words[1:])
        n = parse_count(args, DEFAULT_RECOMMENDATIONS, MAX_RECOMMENDATIONS)
        if n is None:
            return Outcome.say(
                _(
                    "Ask like /grouprec, /grouprec 5 (1 to {max}) or /grouprec watchlist (picks "
                    "from what members saved for later)."
                ).format(max=MAX_RECOMMENDATIONS)
            )
        members = chats.pool_members(self.db, chat.chat_id)
        if not members:
            return Outcome.say(
                _("Nobody has joined this chat's pool yet: /join first."), self._invite_button(chat)
            )
        picks = self.service.group_picks([uid for uid, _ in members], n, from_watchlists)
        if not picks and from_watchlists:
            return Outcome.say(
                _(
                    "Nothing on your watchlists that nobody here has rated: save movies with "
                    '"Save" under /recommend in a private chat with me.'
                )
            )
        if not picks:
            return Outcome.say(_("Between you, you've rated everything I know!"))
        who = [esc(self._first_name(name)[:12]) for _, name in members]
        if from_watchlists:
            header = ngettext(
                "Picks for {count} from your watchlists (nobody has rated these). Ranked by the "
                "average predicted score, minus a penalty when anyone is predicted below 6/10:",
                "Picks for {count} from your watchlists (nobody has rated these). Ranked by the "
                "average predicted score, minus a penalty when anyone is predicted below 6/10:",
                len(members),
            )
        else:
            header = ngettext(
                "Picks for {count} (nobody has rated these). Ranked by the average predicted "
                "score, minus a penalty when anyone is predicted below 6/10:",
                "Picks for {count} (nobody has rated these). Ranked by the average predicted "
                "score, minus a penalty when anyone is predicted below 6/10:",
                len(members),
            )
        lines = [header.format(count=len(members))]
        for i, pick in enumerate(picks, start=1):
            group = _("group {score}").format(score=i18n.decimal(pick.score))
            lines.append(f"\n{i}. {title_link(pick.movie)} · {group}")
            scores = zip(who, pick.member_scores, strict=True)
            lines.append("   " + " · ".join(f"{n} {i18n.decimal(s)}" for n, s in scores))
        replies = [Reply(chunk) for chunk in split_text(lines)]
        replies[0] = replace(
            replies[0], preview_url=picks[0].movie.imdb_url, buttons=self._invite_button(chat)
        )
        caption = _("Each member's predicted score for the top picks.")
        replies.append(Reply(caption, picture=Picture("group", chat.chat_id)))
        return Outcome(replies=replies)

    def _movie_night(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        """Open a poll of the pool's top picks, or end the open one (/movienight end)."""
        night = movienight.open_night_in(self.db, chat.chat_id)
        if args.casefold() == "end":
            return self._end_night_outcome(sender, night, tapped=False)
        if args:
            return Outcome.say(
                _("Ask like /movienight to start a vote, /movienight end to end it.")
            )
        if night is not None:
            return Outcome.say(
                _(
                    "A movie night vote is already open here: vote in the poll, or /movienight "
                    "end to close it."
                )
            )
        members = chats.pool_members(self.db, chat.chat_id)
        if not members:
            return Outcome.say(
                _("Nobody has joined this chat's pool yet: /join first."), self._invite_button(chat)
            )
        picks = self.service.group_picks([uid for uid, _ in members], NIGHT_OPTIONS)
        if len(picks) < 2:
            return Outcome.say(_("I need two movies nobody in the pool has rated to vote on."))
        night = movienight.open_night(
            self.db, chat.chat_id, chat.thread_id, sender.user_id, [p.movie.id for p in picks]
        )
        question = "🍿 " + ngettext(
            "Movie night! Which one shall we watch? (top picks for the {count})",
            "Movie night! Which one shall we watch? (top picks for the {count})",
            len(members),
        ).format(count=len(members))
        options = tuple(p.movie.label[:MAX_OPTION] for p in picks)
        end = (Button(_("End the vote"), callbacks.encode(Verb.END_NIGHT, night.id)),)
        return Outcome(replies=[Reply(question, (end,), poll=PollRequest(night.id, options))])

    def _end_night(
        self, sender: Sender, night: movienight.Night | None
    ) -> tuple[tuple[int, int] | None, str]:
        """The poll to stop for the sender, or None and why not."""
        if night is None or night.closed:
            return None, _("There's no movie night vote open here. /movienight starts one.")
        if night.opened_by is not None and night.opened_by != sender.user_id:
            return None, _("Only the one who opened the vote can end it.")
        if night.message_id is None:
            return None, _("The poll is still on its way: try again in a moment.")
        return (night.chat_id, night.message_id), _("Closing the vote…")

    def _end_night_outcome(
        self, sender: Sender, night: movienight.Night | None, tapped: bool
    ) -> Outcome:
        """Stop the poll (the winner is announced when Telegram reports it closed)."""
        stop, why = self._end_night(sender, night)
        if tapped:
            return Outcome(toast=why, stop_poll=stop)
        return Outcome(stop_poll=stop) if stop else Outcome.say(why)

    def _tap_end_night(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """End the movie night vote whose poll carries the button."""
        night = movienight.get_night(self.db, cb.target)
        if night is None or night.chat_id != chat.chat_id:
            return Outcome(toast=_(SORRY_OLD_BUTTON))
        return self._end_night_outcome(sender, night, tapped=True)

    # ------------------------------------------------------------------ plain text

    def _plain_text(self, sender: Sender, text: str) -> Outcome:
        """Take a typed score for the movie asked about, else offer to rate a typed title."""
        self._remember(sender)
        waiting = self._state(sender).awaiting
        if waiting is not None:
            try:
                score = parse_score(text)
            except BadScore:
                return Outcome.say(_(BAD_SCORE))
            if score is not None:
                return self._store(sender, get_movie(self.db, waiting.movie_id), score)
        if len(text) > MAX_QUERY_LENGTH:
            return Outcome.say(
                _("That's a long message! To rate a movie: /rate Ted 8. /help for more.")
            )
        try:
            title, score = split_title_and_score(text)
        except BadScore:
            return Outcome.say(_(BAD_SCORE))
        winner = self.service.resolve(title).movie
        if winner is None:
            return Outcome.say(
                _("I only understand commands. /help shows them; /rate Ted 8 rates.")
            )
        movie = get_movie(self.db, winner.movie_id)
        if score is not None:
            return Outcome.say(
                _("Did you mean to rate {title} {score}/10? Tap to confirm:").format(
                    title=esc(movie.label), score=score
                ),
                (
                    (
                        Button(
                            _("Yes, {score}/10").format(score=score),
                            callbacks.encode(Verb.RATE, movie.id, score),
                        ),
                    ),
                ),
            )
        self._change_state(sender, lambda s: s.ask_score(movie.id))
        return Outcome.say(
            _("Want to rate {movie}?").format(movie=describe(movie)), score_buttons(movie.id)
        )

    # ------------------------------------------------------------------ buttons

    def _tap_rate(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Store the tapped score; on the onboarding card, show the next card."""
        if not 1 <= cb.value <= 10:
            return Outcome(toast=_(SORRY_OLD_BUTTON))
        if self._forgotten(sender):
            # A card sent before a /forget: storing its score would quietly bring them back.
            users.forget_user(self.db, sender.user_id)
            return Outcome(edit=Reply(_(DATA_DELETED)), toast=_("Not saved"))
        movie = get_movie(self.db, cb.target)
        change = ratings.set_rating(self.db, sender.user_id, movie.id, cb.value)
        confirmation = self._confirmation(movie, change.rating, change.previous)
        before = self._state(sender)
        if before.onboarding is not None and before.onboarding.current == movie.id:
            progress = before.onboarding.card_rated(self._next_card(sender))
            outcome = self._onboarding_step(sender, before, progress)
            return Outcome(replies=outcome.replies, edit=Reply(confirmation), toast=_("Saved"))
        self._save(sender, before, before.scored(movie.id))
        return Outcome(edit=Reply(confirmation), toast=_("Saved"))

    def _tap_skip(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Skip the onboarding card not seen and show the next one."""
        movie = get_movie(self.db, cb.target)
        before = self._state(sender)
        if before.onboarding is None or before.onboarding.current != movie.id:
            return Outcome(edit=Reply(_("{title}: skipped.").format(title=esc(movie.label))))
        progress = before.onboarding.card_skipped(self._next_card(sender))
        outcome = self._onboarding_step(sender, before, progress)
        skipped = _("{title}: not seen, skipped.").format(title=esc(movie.label))
        return Outcome(replies=outcome.replies, edit=Reply(skipped))

    def _tap_ask_score(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Show the score buttons for a recommended movie."""
        movie = get_movie(self.db, cb.target)
        self._change_state(sender, lambda s: s.ask_score(movie.id))
        return Outcome.say(_how_would_you_rate(movie), score_buttons(movie.id))

    def _tap_hide(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Keep the movie out of the sender's recommendations."""
        movie = get_movie(self.db, cb.target)
        state.hide_movie(self.db, sender.user_id, movie.id)
        return Outcome(
            toast=_("Hidden: I won't recommend {title} again.").format(title=movie.label[:150])
        )

    def _tap_save(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Put the movie on the sender's watchlist."""
        movie = get_movie(self.db, cb.target)
        if not watchlist.save_for_later(self.db, sender.user_id, movie.id):
            return Outcome(
                toast=_("{title} is on your /watchlist already.").format(title=movie.label[:150])
            )
        return Outcome(
            toast=_("Saved for later: {title}. /watchlist lists them.").format(
                title=movie.label[:150]
            )
        )

    def _tap_seen(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Note the movie as seen, without a score: it leaves the picks."""
        movie = get_movie(self.db, cb.target)
        watchlist.mark_seen(self.db, sender.user_id, movie.id)
        return Outcome(
            toast=_("Seen: I won't pick {title} again. Rate it any time with /rate.").format(
                title=movie.label[:150]
            )
        )

    def _tap_unsave(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Take the movie off the sender's watchlist and show the page again."""
        movie = get_movie(self.db, cb.target)
        watchlist.remove_from_watchlist(self.db, sender.user_id, movie.id)
        return Outcome(
            edit=self._watchlist_page(sender, max(cb.value, 1)),
            toast=_("Removed {title} from your watchlist.").format(title=movie.label[:150]),
        )

    def _tap_watch_page(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Show another page of the sender's watchlist in place."""
        return Outcome(edit=self._watchlist_page(sender, max(cb.target, 1)))

    def _tap_import(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Apply the previewed import in one transaction (or drop it)."""
        plan = imports.pending(self.db, sender.user_id)
        if plan is None or plan["id"] != cb.target:
            return Outcome(
                edit=Reply(_("That import has expired or was replaced: send the file again.")),
                toast=_("Nothing imported"),
            )
        imports.drop_pending(self.db, sender.user_id)
        if cb.value == 0:
            return Outcome(edit=Reply(_("Okay, I imported nothing.")), toast=_("Cancelled"))
        done = imports.apply_import(
            self.db,
            sender.user_id,
            {int(k): v for k, v in plan["new"].items()},
            {int(k): v for k, v in plan["replace"].items()} if cb.value == 2 else {},
            plan["save"],
            plan["seen"],
        )
        parts = [ngettext("{n} new rating", "{n} new ratings", done.rated).format(n=done.rated)]
        if done.replaced:
            parts.append(
                ngettext("{n} replaced", "{n} replaced", done.replaced).format(n=done.replaced)
            )
        if done.saved:
            parts.append(
                ngettext("{n} on your watchlist", "{n} on your watchlist", done.saved).format(
                    n=done.saved
                )
            )
        if done.seen:
            parts.append(
                ngettext("{n} marked seen", "{n} marked seen", done.seen).format(n=done.seen)
            )
        return Outcome(
            edit=Reply(
                _("Imported: {what}. /recommend takes them into account now.").format(
                    what=", ".join(parts)
                )
            ),
            toast=_("Imported"),
        )

    def _tap_pick_rate(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Store the score for the movie picked from an ambiguous /rate, or ask for it."""
        movie = get_movie(self.db, cb.target)
        if 1 <= cb.value <= 10:
            change = ratings.set_rating(self.db, sender.user_id, movie.id, cb.value)
            return Outcome(edit=Reply(self._confirmation(movie, change.rating, change.previous)))
        self._change_state(sender, lambda s: s.ask_score(movie.id))
        return Outcome(edit=Reply(_how_would_you_rate(movie), score_buttons(movie.id)))

    def _tap_pick_similar(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """List movies like the one picked from an ambiguous /similar."""
        outcome = self._similar_to(get_movie(self.db, cb.target), with_save=chat.is_private)
        return Outcome(edit=outcome.replies[0], replies=outcome.replies[1:])

    def _tap_pick_map(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Ask for the movie map marking the movie picked from an ambiguous /map."""
        movie = get_movie(self.db, cb.target)
        outcome = self._map(sender, chat, "")
        reply = outcome.replies[0]
        if reply.picture is None:
            return Outcome(edit=reply)
        picture = Picture("map", sender.user_id, movie.id)
        caption = reply.text + " " + _("Marked: {title}.").format(title=esc(movie.label))
        return Outcome(
            edit=Reply(_("Okay: {title}").format(title=esc(movie.label))),
            replies=[Reply(caption, picture=picture)],
        )

    def _tap_page(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Show another page of the sender's ratings in place."""
        return Outcome(edit=self._ratings_page(sender, max(cb.target, 1)))

    def _tap_remove(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Delete one of the sender's ratings and show that page of /myratings again."""
        movie = get_movie(self.db, cb.target)
        removed = ratings.delete_rating(self.db, sender.user_id, movie.id)
        if removed:
            toast = _("Removed your rating of {title}.").format(title=movie.label[:150])
        else:
            toast = _("Already removed.")
        return Outcome(edit=self._ratings_page(sender, max(cb.value, 1)), toast=toast)

    def _tap_unhide(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Let a hidden movie back into the picks and show that page of /hidden again."""
        movie = get_movie(self.db, cb.target)
        state.unhide_movie(self.db, sender.user_id, movie.id)
        return Outcome(
            edit=self._hidden_page(sender, max(cb.value, 1)),
            toast=_("{title} can be recommended again.").format(title=movie.label[:150]),
        )

    def _tap_hidden_page(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Show another page of the sender's hidden movies in place."""
        return Outcome(edit=self._hidden_page(sender, max(cb.target, 1)))

    def _tap_forget(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Delete everything about the sender once confirmed, or keep it."""
        if cb.target != 1:
            return Outcome(edit=Reply(_("Okay, I kept everything.")))
        deleted = users.forget_user(self.db, sender.user_id)
        until = i18n.long_date((datetime.now(UTC) + timedelta(days=BACKUP_DAYS + 1)).date())
        return Outcome(
            edit=Reply(
                ngettext(
                    "Done: I deleted your {count} rating and everything else about you, "
                    "including the messages you sent me. The daily backups made before now "
                    "still hold it: each is kept {days} days, so the last copy is gone by "
                    "{until}. /start begins afresh.",
                    "Done: I deleted your {count} ratings and everything else about you, "
                    "including the messages you sent me. The daily backups made before now "
                    "still hold it: each is kept {days} days, so the last copy is gone by "
                    "{until}. /start begins afresh.",
                    deleted,
                ).format(count=deleted, days=BACKUP_DAYS, until=until)
            ),
            truncate_wal=True,  # the log keeps no frame of what went (bot/delivery.py)
        )

    def _forgotten(self, sender: Sender) -> bool:
        """Whether the sender used /forget and has not started again (no ratings, no card
        waiting for a score): a button from before the /forget."""
        return (
            users.was_forgotten(self.db, sender.user_id)
            and ratings.count_user_ratings(self.db, sender.user_id) == 0
            and not state.get_state(self.db, sender.user_id)
        )

    def _tap_cancel(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        """Drop the question the buttons asked."""
        return Outcome(edit=Reply(_("Okay, never mind.")))

    # ------------------------------------------------------------------ helpers

    @property
    def genres(self) -> dict[str, str]:
        """The catalog's genres by their case-folded name in any language (read once)."""
        if self._genres is None:
            self._genres = genres.by_typed_name(all_genres(self.db))
        return self._genres

    def _resolve_title(
        self,
        title: str,
        on_found: Callable[[Movie], Outcome],
        pick: Callable[[TitleMatch], str],
    ) -> Outcome:
        """Find the movie meant by `title`: act on a strong clear match (storage.search.resolve),
        offer a weak match or close ones with buttons, else say nothing was found."""
        if len(title) > MAX_QUERY_LENGTH:
            return Outcome.say(
                _("Titles are at most {max} characters.").format(max=MAX_QUERY_LENGTH)
            )
        resolution = self.service.resolve(title)
        if resolution.kind is Kind.NONE:
            shown = esc(title if len(title) <= 60 else title[:57] + "...")
            return Outcome.say(
                _(
                    'I couldn\'t find a movie called "{title}". Check the spelling, or add the '
                    "year, like: Cinderella 2015."
                ).format(title=shown)
            )
        if resolution.movie is not None:
            return on_found(get_movie(self.db, resolution.movie.movie_id))
        # A weak match is only ever offered: acting on it saved junk ("asdfgh" as M*A*S*H).
        choices = resolution.choices
        buttons = tuple((Button(m.label[:60], pick(m)),) for m in choices)
        cancel = (Button(_("None of these"), callbacks.encode(Verb.CANCEL, 0)),)
        if clear_winner(list(choices)) is None:
            question = _("Which one do you mean?")
        else:
            question = _("Did you mean {title}?").format(title=esc(choices[0].label[:150]))
        return Outcome.say(question, (*buttons, cancel))

    def _rate_or_ask(self, sender: Sender, movie: Movie, score: int | None) -> Outcome:
        """Store the score, or show the score buttons when there is none."""
        if score is None:
            self._change_state(sender, lambda s: s.ask_score(movie.id))
            return Outcome.say(_how_would_you_rate(movie), score_buttons(movie.id))
        return self._store(sender, movie, score)

    def _store(self, sender: Sender, movie: Movie, score: int) -> Outcome:
        """Store the rating and confirm it."""
        change = ratings.set_rating(self.db, sender.user_id, movie.id, score)
        self._change_state(sender, lambda s: s.scored(movie.id))
        return Outcome.say(self._confirmation(movie, change.rating, change.previous))

    @staticmethod
    def _confirmation(movie: Movie, rating: int, previous: int | None) -> str:
        """ "Ted (2012): 8/10 ✓", saying so when it replaced another score."""
        label = esc(movie.label)
        if previous is None:
            return f"{label}: {rating}/10 ✓"
        if previous == rating:
            return _("{title}: {rating}/10 ✓ (unchanged)").format(title=label, rating=rating)
        return _("{title}: {rating}/10 ✓ (replaces your earlier {previous}/10)").format(
            title=label, rating=rating, previous=previous
        )

    def _similar_to(self, movie: Movie, with_save: bool = False) -> Outcome:
        """List the movies most like `movie`, or say it is too little known; `with_save`
        adds a "Save" button for each (private chats: the watchlist is personal)."""
        nearest = self.service.similar(movie.id, 10)
        if not nearest:
            # The model's count (what `similar` went by), not the database's.
            count = self.service.rating_count(movie.id)
            return Outcome.say(
                ngettext(
                    "I don't know {title} well enough yet to find movies like it "
                    "({count} rating). Try a better-known one.",
                    "I don't know {title} well enough yet to find movies like it "
                    "({count} ratings). Try a better-known one.",
                    count,
                ).format(title=esc(movie.label), count=count)
            )
        lines = [_("Movies like {title}:").format(title=title_link(movie))]
        for i, (other, share) in enumerate(nearest, start=1):
            liked = _("liked by {share} of its fans").format(share=i18n.percent(share))
            lines.append(f"{i}. {title_link(other)} · {liked}")
        replies = [Reply(chunk) for chunk in split_text(lines)]
        if with_save:
            saves = [
                Button(_("Save {n}").format(n=i), callbacks.encode(Verb.SAVE, other.id))
                for i, (other, _share) in enumerate(nearest[:BUTTONS_FOR_FIRST], start=1)
            ]
            rows = tuple(tuple(saves[i : i + 5]) for i in range(0, len(saves), 5))
            replies[-1] = Reply(replies[-1].text, rows)
        return Outcome(replies=replies)

    def _watchlist_page(self, sender: Sender, page: int) -> Reply:
        """One page of the sender's watchlist, newest first: "Rate" and "Remove" for each,
        buttons to the other pages."""
        total = watchlist.count_watchlist(self.db, sender.user_id)
        if total == 0:
            return Reply(
                _(
                    'Your watchlist is empty. Tap "Save" under /recommend or /similar to keep a '
                    "movie for later."
                )
            )
        page, pages, offset = _page_window(total, page, WATCHLIST_PAGE)
        rows = watchlist.watchlist_page(
            self.db, sender.user_id, offset=offset, limit=WATCHLIST_PAGE
        )
        lines = [
            _("Your watchlist ({first}-{last} of {total}):").format(
                first=offset + 1, last=offset + len(rows), total=total
            )
        ]
        buttons = []
        for i, (movie, _added) in enumerate(rows, start=offset + 1):
            lines.append(f"{i}. {title_link(movie)}")

            buttons.append(
                (
                    Button(_("Rate {n}").format(n=i), callbacks.encode(Verb.ASK_SCORE, movie.id)),
                    Button(
                        _("Remove {n}").format(n=i), callbacks.encode(Verb.UNSAVE, movie.id, page)
                    ),
                )
            )
        nav = _page_buttons(page, pages, Verb.WATCH_PAGE)
        if nav:
            buttons.append(nav)
        return Reply("\n".join(lines), tuple(buttons))

    def _ratings_page(self, sender: Sender, page: int) -> Reply:
        """One page of the sender's ratings, newest first: "Remove" for each, buttons to the
        other pages."""
        total = ratings.count_user_ratings(self.db, sender.user_id)
        if total == 0:
            return Reply(_("You haven't rated anything yet. /start or /rate Ted 8 to begin."))
        page, pages, offset = _page_window(total, page, RATINGS_PAGE)
        rows = ratings.user_ratings_page(self.db, sender.user_id, offset=offset, limit=RATINGS_PAGE)
        lines = [
            _("Your ratings ({first}-{last} of {total}):").format(
                first=offset + 1, last=offset + len(rows), total=total
            )
        ]
        numbered = list(enumerate(rows, start=offset + 1))
        lines += [f"{i}. {esc(movie.label)}: {rating}/10" for i, (movie, rating) in numbered]

        removes = [
            Button(_("Remove {n}").format(n=i), callbacks.encode(Verb.REMOVE, movie.id, page))
            for i, (movie, _rating) in numbered
        ]
        buttons = [tuple(removes[i : i + 5]) for i in range(0, len(removes), 5)]
        nav = _page_buttons(page, pages, Verb.PAGE)
        if nav:
            buttons.append(nav)
        return Reply("\n".join(lines), tuple(buttons))

    def _hidden_page(self, sender: Sender, page: int) -> Reply:
        """One page of the movies the sender hid, newest first: "Unhide" for each, buttons to
        the other pages."""
        total = state.count_hidden(self.db, sender.user_id)
        if total == 0:
            return Reply(_('You haven\'t hidden any movie. "Hide" under /recommend hides one.'))
        page, pages, offset = _page_window(total, page, HIDDEN_PAGE)
        movies = state.hidden_page(self.db, sender.user_id, offset=offset, limit=HIDDEN_PAGE)
        lines = [
            _("Movies you hid ({first}-{last} of {total}):").format(
                first=offset + 1, last=offset + len(movies), total=total
            )
        ]
        numbered = list(enumerate(movies, start=offset + 1))
        lines += [f"{i}. {esc(movie.label)}" for i, movie in numbered]

        unhides = [
            Button(_("Unhide {n}").format(n=i), callbacks.encode(Verb.UNHIDE, movie.id, page))
            for i, movie in numbered
        ]
        buttons = [tuple(unhides[i : i + 5]) for i in range(0, len(unhides), 5)]
        nav = _page_buttons(page, pages, Verb.HIDDEN_PAGE)
        if nav:
            buttons.append(nav)
        return Reply("\n".join(lines), tuple(buttons))

    # ------------------------------------------------------------------ state

    def _next_card(self, sender: Sender) -> NextCard:
        """The service's choice of the sender's next onboarding card, given the skipped ones."""
        return lambda skipped: self.service.next_onboarding_movie(sender.user_id, skipped)

    def _onboarding_step(
        self, sender: Sender, before: ConversationState, progress: Onboarding | OnboardingDone
    ) -> Outcome:
        """Store the onboarding progress; show its card, or the thanks when it is done."""
        self._save(sender, before, before.with_onboarding(progress))
        if isinstance(progress, OnboardingDone):
            return Outcome.say(
                ngettext(
                    "Thanks! That's {count} rated. /recommend shows what I'd pick for you; "
                    "/rate any movie to sharpen it.",
                    "Thanks! That's {count} rated. /recommend shows what I'd pick for you; "
                    "/rate any movie to sharpen it.",
                    progress.rated,
                ).format(count=progress.rated)
            )
        movie = get_movie(self.db, progress.current)
        card = f"{progress.rated + 1}/{ONBOARDING_SIZE}: {describe(movie)}"
        return Outcome.say(
            card + "\n" + _("How would you rate it?"),
            score_buttons(movie.id, with_skip=True),
        )

    def _state(self, sender: Sender) -> ConversationState:
        """What the sender is in the middle of."""
        return states.load(self.db, sender.user_id)

    def _save(self, sender: Sender, before: ConversationState, after: ConversationState) -> None:
        """Store the sender's new state when it changed."""
        if after != before:
            states.save(self.db, sender.user_id, after)

    def _change_state(
        self, sender: Sender, transition: Callable[[ConversationState], ConversationState]
    ) -> None:
        """Apply one transition to the sender's stored state."""
        before = self._state(sender)
        self._save(sender, before, transition(before))

    @staticmethod
    def _first_name(display_name: str | None) -> str:
        """The first readable word of a display name, or "Someone"."""
        return names.first_name(display_name, fallback=_("Someone"))


def _how_would_you_rate(movie: Movie) -> str:
    """The question above the score buttons."""
    return _("How would you rate {movie}?").format(movie=describe(movie))


def _page_window(total: int, page: int, size: int) -> tuple[int, int, int]:
    """For a list of `total` rows shown `size` a page: the page to show (at most the last),
    how many pages there are and the offset of its first row."""
    pages = (total + size - 1) // size
    page = min(page, pages)
    return page, pages, (page - 1) * size


def _page_buttons(page: int, pages: int, verb: callbacks.Verb) -> tuple[Button, ...]:
    """Buttons to the newer and older pages of a paged list, where there are such pages."""
    nav = []
    if page > 1:
        nav.append(Button(_("◀ Newer"), callbacks.encode(verb, page - 1)))
    if page < pages:
        nav.append(Button(_("Older ▶"), callbacks.encode(verb, page + 1)))
    return tuple(nav)


def _years_label(years: tuple[int, int]) -> str:
    """ "from 1994", "from the 1990s", "from 1990-2005"."""
    lo, hi = years
    if lo == hi:
        return _("from {year}").format(year=lo)
    if lo % 10 == 0 and hi == lo + 9:
        return _("from the {decade}s").format(decade=lo)
    return _("from {start}-{end}").format(start=lo, end=hi)


def _movies_label(genre: str | None, years: tuple[int, int] | None) -> str:
    """ "movies overall", "Comedy movies", "movies from the 1990s", "Comedy movies from 1994"."""
    if genre and years:
        return _("{genre} movies {years}").format(
            genre=genres.shown(genre), years=_years_label(years)
        )
    if genre:
        return _("{genre} movies").format(genre=genres.shown(genre))
    if years:
        return _("movies {years}").format(years=_years_label(years))
    return _("movies overall")


def _top_picks_header(n: int, genre: str | None, years: tuple[int, int] | None) -> str:
    """ "Your top 5 picks:", "Your top 5 Comedy picks from the 1990s:" and the like."""
    if genre and years:
        text = ngettext(
            "Your top {n} {genre} pick {years}:", "Your top {n} {genre} picks {years}:", n
        )
    elif genre:
        text = ngettext("Your top {n} {genre} pick:", "Your top {n} {genre} picks:", n)
    elif years:
        text = ngettext("Your top {n} pick {years}:", "Your top {n} picks {years}:", n)
    else:
        text = ngettext("Your top {n} pick:", "Your top {n} picks:", n)
    shown = genres.shown(genre) if genre else ""
    return text.format(n=n, genre=shown, years=_years_label(years) if years else "")


# ---------------------------------------------------------------------- one declaration each
# The order is the menus' order (each menu lists its own) and the order of /help.

COMMANDS = (
    Command(
        "start",
        Conversation._start,
        Where.BOTH,
        menu=N_("Rate a few movies to get going"),
        menus=Where.PRIVATE,
        help=N_("/start - rate a few well-known movies to get going"),
    ),
    Command(
        "rate",
        Conversation._rate,
        Where.PRIVATE,
        menu=N_("Rate a movie: /rate Ted 8"),
        help=N_(
            "/rate <title> <1-10> - rate a movie, e.g. /rate Ted 8 (leave out the score to get "
            "buttons)"
        ),
    ),
    Command(
        "recommend",
        Conversation._recommend,
        Where.PRIVATE,
        menu=N_("Your top picks: /recommend 5"),
        help=N_("/recommend [n] [genre] [years] - your top picks, e.g. /recommend 5 comedy 1990s"),
    ),
    Command(
        "join",
        Conversation._join,
        Where.GROUP,
        menu=N_("Join this chat's movie pool"),
        help=N_("/join or /leave the group's pool"),
        elsewhere=N_("/join works in a group chat: add me to a group and try there."),
    ),
    Command(
        "leave",
        Conversation._leave,
        Where.GROUP,
        menu=N_("Leave this chat's movie pool"),
        elsewhere=N_("/leave works in a group chat."),
    ),
    Command(
        "grouprec",
        Conversation._group_recommend,
        Where.GROUP,
        menu=N_("Picks for everyone in the pool"),
        help=N_("/grouprec [n] [watchlist] for picks for everyone who joined"),
        elsewhere=N_("/grouprec works in a group chat, for everyone who /join-ed."),
    ),
    Command(
        "movienight",
        Conversation._movie_night,
        Where.GROUP,
        menu=N_("Vote on tonight's movie"),
        help=N_("/movienight to vote on the pool's top picks"),
        elsewhere=N_("/movienight works in a group chat, for everyone who /join-ed."),
    ),
    Command(
        "similar",
        Conversation._similar,
        Where.BOTH,
        menu=N_("Movies like one: /similar Frozen"),
        help=N_("/similar <title> - movies like that one"),
    ),
    Command(
        "myratings",
        Conversation._my_ratings,
        Where.PRIVATE,
        menu=N_("What you have rated"),
        help=N_("/myratings - what you have rated"),
    ),
    Command(
        "undo",
        Conversation._undo,
        Where.PRIVATE,
        menu=N_("Remove your last rating"),
        help=N_("/undo - remove your last rating (again: the one before)"),
    ),
    Command(
        "hidden",
        Conversation._hidden,
        Where.PRIVATE,
        menu=N_("Movies you hid, to unhide"),
        help=N_("/hidden - the movies you hid, with buttons to unhide them"),
    ),
    Command(
        "watchlist",
        Conversation._watchlist,
        Where.PRIVATE,
        menu=N_("Movies you saved for later"),
        help=N_("/watchlist - the movies you saved for later"),
    ),
    Command(
        "import",
        Conversation._import,
        Where.PRIVATE,
        menu=N_("Bring your IMDb or Letterboxd ratings"),
        help=N_("/import - bring your ratings from IMDb or Letterboxd (send me the export file)"),
    ),
    Command(
        "export",
        Conversation._export,
        Where.PRIVATE,
        menu=N_("Your ratings as files for Letterboxd, IMDb"),
        help=N_("/export - your ratings and watchlist as files for Letterboxd and IMDb"),
    ),
    Command(
        "taste",
        Conversation._taste,
        Where.PRIVATE,
        menu=N_("A picture of your taste"),
        help=N_("/taste - a picture of your taste"),
    ),
    Command(
        "map",
        Conversation._map,
        Where.PRIVATE,
        menu=N_("Where your taste sits: /map Frozen"),
        help=N_("/map [title] - where your taste sits on a map of movies, e.g. /map Frozen"),
    ),
    Command(
        "language",
        Conversation._language,
        Where.PRIVATE,
        menu=N_("Change the language I speak"),
        help=N_("/language - change the language I speak with you"),
    ),
    Command(
        "settings",
        Conversation._settings,
        Where.PRIVATE,
        menu=N_("Genres to skip, how adventurous"),
        help=N_("/settings - genres never to recommend, popular picks or hidden gems, language"),
    ),
    Command(
        "forget",
        Conversation._forget,
        Where.PRIVATE,
        menu=N_("Delete everything I know about you"),
        help=N_("/forget - delete everything I know about you"),
    ),
    Command(
        "cancel",
        Conversation._cancel,
        Where.BOTH,
        menu=N_("Drop the current question"),
        menus=Where.PRIVATE,
        help=N_("/cancel - drop the current question"),
    ),
    Command("help", Conversation._help, Where.BOTH, menu=N_("What I can do")),
)

# Personal buttons act on the tapper's own ratings or data: a group only ever sees them
# forged (the commands that show them answer in private chats), so they are refused there.
BUTTONS: dict[Verb, Tap] = {
    Verb.RATE: Tap(Conversation._tap_rate, personal=True),
    Verb.ASK_SCORE: Tap(Conversation._tap_ask_score, personal=True),
    Verb.SKIP: Tap(Conversation._tap_skip, personal=True),
    Verb.HIDE: Tap(Conversation._tap_hide, personal=True),
    Verb.PICK_RATE: Tap(Conversation._tap_pick_rate, personal=True),
    Verb.PICK_SIMILAR: Tap(Conversation._tap_pick_similar, personal=False),
    Verb.PICK_MAP: Tap(Conversation._tap_pick_map, personal=True),
    Verb.PAGE: Tap(Conversation._tap_page, personal=True),
    Verb.FORGET: Tap(Conversation._tap_forget, personal=True),
    Verb.CANCEL: Tap(Conversation._tap_cancel, personal=False),
    Verb.SAVE: Tap(Conversation._tap_save, personal=True),
    Verb.SEEN: Tap(Conversation._tap_seen, personal=True),
    Verb.UNSAVE: Tap(Conversation._tap_unsave, personal=True),
    Verb.WATCH_PAGE: Tap(Conversation._tap_watch_page, personal=True),
    Verb.IMPORT: Tap(Conversation._tap_import, personal=True),
    Verb.REMOVE: Tap(Conversation._tap_remove, personal=True),
    Verb.UNHIDE: Tap(Conversation._tap_unhide, personal=True),
    Verb.HIDDEN_PAGE: Tap(Conversation._tap_hidden_page, personal=True),
    Verb.END_NIGHT: Tap(Conversation._tap_end_night, personal=False),
    Verb.SET_GENRE: Tap(Conversation._tap_set_genre, personal=True),
    Verb.SET_ADVENTURE: Tap(Conversation._tap_set_adventure, personal=True),
    Verb.LANGUAGE: Tap(Conversation._tap_language, personal=True),
}

COMMANDS_BY_NAME = {command.name: command for command in COMMANDS}
if len(COMMANDS_BY_NAME) != len(COMMANDS) or BUTTONS.keys() != set(Verb):
    raise TypeError("every command needs one declaration, every button verb one Tap")
if any((c.where is Where.GROUP) != (c.elsewhere is not None) for c in COMMANDS):
    raise TypeError("group commands, and only they, say where they work (elsewhere)")


def menu(chats: Where) -> list[tuple[str, str]]:
    """(command, description) for the Telegram menu of private or of group chats, in the
    current language (bot/i18n.py's `speaking`)."""
    return [(c.name, _(c.menu)) for c in COMMANDS if c.menu and c.in_menus in (chats, Where.BOTH)]


def help_text() -> str:
    """/help (HTML): one line per command of private chats, then one line for the group
    commands."""
    lines = [_(c.help) for c in COMMANDS if c.help and c.where is not Where.GROUP]
    group = [_(c.help) for c in COMMANDS if c.help and c.where is Where.GROUP]
    in_a_group = _("In a group: {commands}.").format(commands=", ".join(group))
    return esc("\n".join([_(HELP_INTRO), "", *lines, in_a_group]))
