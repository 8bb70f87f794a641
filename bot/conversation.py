"""The command layer: what a person typed or tapped in, the bot's answer out.

Transport-agnostic: the Telegram adapter and the console chat both call `on_text` and
`on_button` and render the `Outcome`. Every expected problem (unknown title, bad score,
unknown command) becomes a friendly reply here and changes nothing; unexpected errors are the
caller's to log and apologise for.

Conversation state that must survive a restart (onboarding progress, a movie waiting for a
score) lives in SQLite through storage.state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import callbacks
from bot.callbacks import Verb
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
from bot.replies import Button, Outcome, Picture, Reply, split_text
from bot.service import ONBOARDING_SIZE, MovieService
from storage import chats, ratings, state, users
from storage.errors import InvalidArgument, UnknownMovie
from storage.movies import Movie, all_genres
from storage.search import MAX_QUERY_LENGTH, TitleMatch, clear_winner

DEFAULT_RECOMMENDATIONS = 10
MAX_RECOMMENDATIONS = 50
BUTTONS_FOR_FIRST = 10  # rate/hide buttons for this many recommendations (Telegram caps at 100)
RATINGS_PAGE = 10

HELP = """I learn your taste in movies from your ratings and recommend what to watch next.

/start - rate a few well-known movies to get going
/rate <title> <1-10> - rate a movie, e.g. /rate Ted 8 (leave out the score to get buttons)
/recommend [n] [genre] [years] - your top picks, e.g. /recommend 5 comedy 1990s
/similar <title> - movies like that one
/myratings - what you have rated
/taste - a picture of your taste
/map [title] - where your taste sits on a map of movies, e.g. /map Frozen
/forget - delete everything I know about you
/cancel - drop the current question
In a group: /join or /leave the group's pool, /grouprec [n] for picks for everyone who joined."""

RATE_USAGE = "Tell me the title and a score from 1 to 10, like: /rate Ted 8"
BAD_SCORE = "Scores are whole numbers from 1 to 10, like: /rate Ted 8. Nothing was saved."
PRIVATE_ONLY = (
    "Your ratings stay private: send me /{name} in a private chat and I'll answer you there."
)
SORRY_OLD_BUTTON = "That button has expired. Try the command again."
PRIVATE_ONLY_COMMANDS = {"rate", "recommend", "myratings", "forget", "taste", "map"}
NO_RATINGS_FOR_PICTURE = (
    "Rate a few movies first (/start, or /rate Ted 8), then I can draw your taste."
)
# Plain text is only taken for a title when it matches this well (out of 100): chatter such
# as "hello there" must not turn into a rating prompt.
NUDGE_MIN_SCORE = 85.0


@dataclass(frozen=True)
class Sender:
    """Who sent a message or tapped a button."""

    user_id: int
    display_name: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Chat:
    chat_id: int
    is_private: bool = True


def score_buttons(movie_id: int, with_skip: bool = False) -> tuple[tuple[Button, ...], ...]:
    """Two rows of 1-10, and "Haven't seen it" for onboarding."""
    rows = [
        tuple(Button(str(s), callbacks.encode(Verb.RATE, movie_id, s)) for s in range(1, 6)),
        tuple(Button(str(s), callbacks.encode(Verb.RATE, movie_id, s)) for s in range(6, 11)),
    ]
    if with_skip:
        rows.append((Button("Haven't seen it", callbacks.encode(Verb.SKIP, movie_id)),))
    return tuple(rows)


def describe(movie: Movie) -> str:
    genres = ", ".join(movie.genres) if movie.genres else "no genres listed"
    return f"{movie.label}\n{genres}"


class Conversation:
    def __init__(self, service: MovieService, bot_username: str | None = None) -> None:
        self.service = service
        self.bot_username = bot_username
        self._genres: dict[str, str] | None = None
        self._commands: dict[str, Callable[[Sender, Chat, str], Outcome]] = {
            "start": self._start,
            "help": self._help,
            "rate": self._rate,
            "recommend": self._recommend,
            "similar": self._similar,
            "myratings": self._my_ratings,
            "taste": self._taste,
            "map": self._map,
            "forget": self._forget,
            "cancel": self._cancel,
            "join": self._join,
            "leave": self._leave,
            "grouprec": self._group_recommend,
        }

    @property
    def db(self):
        return self.service.db

    # ------------------------------------------------------------------ entry points

    def on_text(self, sender: Sender, chat: Chat, text: str) -> Outcome:
        """Answer one message. In groups, only commands meant for this bot get an answer."""
        text = (text or "").strip()
        if len(text) > MAX_MESSAGE:
            return Outcome.say("That message is too long for me. Titles are short: try again.")
        if for_another_bot(text, self.bot_username):
            return Outcome()
        command = parse_command(text, self.bot_username)
        if command is None:
            if not chat.is_private:
                return Outcome()  # group chatter
            if text.startswith("/"):
                return Outcome.say("That isn't a command I know. /help lists them.")
            return self._plain_text(sender, text)
        handler = self._commands.get(command.name)
        if handler is None:
            if not chat.is_private:
                return Outcome()
            return Outcome.say(f"I don't know /{command.name[:32]}. " + "Try /help.")
        if not chat.is_private and command.name in PRIVATE_ONLY_COMMANDS:
            return Outcome.say(PRIVATE_ONLY.format(name=command.name))
        self._remember(sender)
        return handler(sender, chat, command.args)

    def on_button(self, sender: Sender, chat: Chat, data: str) -> Outcome:
        """Answer one button tap."""
        callback = callbacks.parse(data)
        if callback is None:
            return Outcome(toast=SORRY_OLD_BUTTON)
        self._remember(sender)
        handlers: dict[Verb, Callable[[Sender, Chat, callbacks.Callback], Outcome]] = {
            Verb.RATE: self._tap_rate,
            Verb.ASK_SCORE: self._tap_ask_score,
            Verb.SKIP: self._tap_skip,
            Verb.HIDE: self._tap_hide,
            Verb.PICK_RATE: self._tap_pick_rate,
            Verb.PICK_SIMILAR: self._tap_pick_similar,
            Verb.PICK_MAP: self._tap_pick_map,
            Verb.PAGE: self._tap_page,
            Verb.FORGET: self._tap_forget,
            Verb.CANCEL: self._tap_cancel,
        }
        personal = {
            Verb.RATE,
            Verb.ASK_SCORE,
            Verb.SKIP,
            Verb.HIDE,
            Verb.PICK_RATE,
            Verb.PICK_MAP,
            Verb.PAGE,
            Verb.FORGET,
        }
        if not chat.is_private and callback.verb in personal:
            return Outcome(toast="Ratings are private: message me directly.")
        try:
            return handlers[callback.verb](sender, chat, callback)
        except (UnknownMovie, InvalidArgument):
            return Outcome(toast=SORRY_OLD_BUTTON)

    def _remember(self, sender: Sender) -> None:
        users.save_user(self.db, sender.user_id, sender.display_name, sender.language)

    # ------------------------------------------------------------------ commands

    def _help(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        return Outcome.say(HELP)

    def _start(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        if not chat.is_private:
            return Outcome.say(
                "Hi! I recommend movies. In this group, /join the pool and use /grouprec for "
                "picks everyone will like. Rate movies with me in a private chat."
            )
        name = (sender.display_name or "there").split()[0][:40]
        progress = state.get_state(self.db, sender.user_id).get("onboarding")
        if progress is None:
            rated = ratings.user_ratings(self.db, sender.user_id)
            queue = [m for m in self.service.onboarding_movies() if m not in rated]
            progress = {"queue": queue, "rated": 0}
            self._save_state(sender, onboarding=progress)
            intro = (
                f"Hi {name}! I recommend movies from your ratings. Let's start with a few "
                f"well-known ones: rate each from 1 (awful) to 10 (loved it), or tap "
                f'"Haven\'t seen it". About {ONBOARDING_SIZE} ratings are enough to begin.'
            )
        else:
            intro = f"Welcome back, {name}! Let's carry on where we left off."
        outcome = self._next_onboarding_movie(sender, progress)
        outcome.replies.insert(0, Reply(intro))
        return outcome

    def _rate(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        if not args:
            return Outcome.say(RATE_USAGE)
        try:
            title, score = split_title_and_score(args)
        except BadScore:
            return Outcome.say(BAD_SCORE)
        return self._resolve_title(
            title,
            on_found=lambda movie: self._rate_or_ask(sender, movie, score),
            pick=lambda match: callbacks.encode(Verb.PICK_RATE, match.movie_id, score or 0),
        )

    def _recommend(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        usage = (
            f"Ask like /recommend, /recommend 5, /recommend 5 comedy or /recommend 5 comedy "
            f"1990s (1 to {MAX_RECOMMENDATIONS} movies; years like 1994, 90s or 1990-2005)."
        )
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
                known = ", ".join(sorted(self.genres.values())[:20])
                return Outcome.say(f'I don\'t know the genre "{token[:40]}". Try one of: {known}.')
        picks = self.service.recommend(sender.user_id, n, genre, years)
        if not picks:
            return Outcome.say("I have nothing left to recommend with that filter.")
        cold = ratings.count_user_ratings(self.db, sender.user_id) == 0
        if cold:
            which = "movies overall"
            if genre or years:
                which = (f"{genre} " if genre else "") + "movies"
                which += f" {_years_label(years)}" if years else ""
            header = (
                f"You haven't rated anything yet, so these are the best-rated {which}. "
                "Rate a few (/start) and I'll pick for your taste."
            )
        else:
            header = f"Your top {len(picks)}" + (f" {genre}" if genre else "") + " picks"
            header += f" {_years_label(years)}:" if years else ":"
        lines = [header]
        for i, pick in enumerate(picks, start=1):
            genres = ", ".join(pick.movie.genres[:3]) or "no genres listed"
            lines.append(f"\n{i}. {pick.movie.label} · {pick.score:.1f}/10 · {genres}")
            details = []
            if pick.because:
                movie, rating = pick.because
                details.append(f"because you rated {movie.title} {rating}")
            if pick.movie.imdb_url:
                details.append(pick.movie.imdb_url)
            if details:
                lines.append("   " + " · ".join(details))
        buttons = []
        row: list[Button] = []
        for i, pick in enumerate(picks[:BUTTONS_FOR_FIRST], start=1):
            row.append(Button(f"Rate {i}", callbacks.encode(Verb.ASK_SCORE, pick.movie.id)))
            row.append(Button(f"Hide {i}", callbacks.encode(Verb.HIDE, pick.movie.id)))
            if len(row) == 4:
                buttons.append(tuple(row))
                row = []
        if row:
            buttons.append(tuple(row))
        chunks = split_text(lines)
        replies = [Reply(chunk) for chunk in chunks[:-1]]
        replies.append(Reply(chunks[-1], tuple(buttons)))
        return Outcome(replies=replies)

    def _similar(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        if not args:
            return Outcome.say("Tell me a movie, like: /similar Frozen")
        return self._resolve_title(
            args,
            on_found=self._similar_to,
            pick=lambda match: callbacks.encode(Verb.PICK_SIMILAR, match.movie_id),
        )

    def _my_ratings(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        page = parse_count(args, 1, 100_000) if args else 1
        if page is None:
            return Outcome.say("Ask like /myratings or /myratings 2 (a page number).")
        return Outcome(replies=[self._ratings_page(sender, page)])

    def _taste(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        count = ratings.count_user_ratings(self.db, sender.user_id)
        if count == 0:
            return Outcome.say(NO_RATINGS_FOR_PICTURE)
        caption = f"Your taste, from your {count} rating{'s' if count != 1 else ''}."
        return Outcome(replies=[Reply(caption, picture=Picture("taste", sender.user_id))])

    def _map(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        if ratings.count_user_ratings(self.db, sender.user_id) == 0:
            return Outcome.say(NO_RATINGS_FOR_PICTURE)

        def draw(focus: Movie | None) -> Outcome:
            caption = "Where your taste sits: movies close together are liked by the same people."
            if focus is not None:
                caption += f" Marked: {focus.label}."
            picture = Picture("map", sender.user_id, focus.id if focus else None)
            return Outcome(replies=[Reply(caption, picture=picture)])

        if not args:
            return draw(None)
        return self._resolve_title(args, on_found=draw, pick=self._map_pick)

    def _map_pick(self, match: TitleMatch) -> str:
        # Ambiguous /map titles are rare; the choice draws the map without a focus question.
        return callbacks.encode(Verb.PICK_MAP, match.movie_id)

    def _forget(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        count = ratings.count_user_ratings(self.db, sender.user_id)
        return Outcome.say(
            f"This deletes your {count} rating{'s' if count != 1 else ''} and everything else "
            "I know about you. Are you sure?",
            (
                (
                    Button("Yes, delete everything", callbacks.encode(Verb.FORGET, 1)),
                    Button("No, keep it", callbacks.encode(Verb.FORGET, 0)),
                ),
            ),
        )

    def _cancel(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        had = state.get_state(self.db, sender.user_id)
        state.set_state(self.db, sender.user_id, {})
        if had:
            return Outcome.say("Okay, dropped that. /help shows what I can do.")
        return Outcome.say("There was nothing to cancel. /help shows what I can do.")

    def _join(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        if chat.is_private:
            return Outcome.say("/join works in a group chat: add me to a group and try there.")
        added = chats.join_pool(self.db, chat.chat_id, sender.user_id)
        size = len(self.service.pool(chat.chat_id))
        who = self._first_name(sender.display_name)
        if not added:
            return Outcome.say(f"{who}, you're already in this chat's pool ({size} in it).")
        return Outcome.say(
            f"{who} joined this chat's movie pool ({size} in it). /grouprec for shared picks; "
            "your own ratings stay private."
        )

    def _leave(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        if chat.is_private:
            return Outcome.say("/leave works in a group chat.")
        removed = chats.leave_pool(self.db, chat.chat_id, sender.user_id)
        who = self._first_name(sender.display_name)
        if not removed:
            return Outcome.say(f"{who}, you weren't in this chat's pool.")
        return Outcome.say(f"{who} left this chat's movie pool.")

    def _group_recommend(self, sender: Sender, chat: Chat, args: str) -> Outcome:
        if chat.is_private:
            return Outcome.say("/grouprec works in a group chat, for everyone who /join-ed.")
        n = parse_count(args, DEFAULT_RECOMMENDATIONS, MAX_RECOMMENDATIONS)
        if n is None:
            return Outcome.say(f"Ask like /grouprec or /grouprec 5 (1 to {MAX_RECOMMENDATIONS}).")
        members = self.service.pool(chat.chat_id)
        if not members:
            return Outcome.say("Nobody has joined this chat's pool yet: /join first.")
        picks = self.service.group_picks([uid for uid, _ in members], n)
        if not picks:
            return Outcome.say("Between you, you've rated everything I know!")
        names = [self._first_name(name)[:12] for _, name in members]
        lines = [
            f"Picks for {len(members)} (nobody has rated these). Ranked by the average "
            "predicted score, minus a penalty when anyone is predicted below 6/10:"
        ]
        for i, pick in enumerate(picks, start=1):
            lines.append(f"\n{i}. {pick.movie.label} · group {pick.score:.1f}")
            lines.append(
                "   "
                + " · ".join(f"{n} {s:.1f}" for n, s in zip(names, pick.member_scores, strict=True))
            )
        replies = [Reply(chunk) for chunk in split_text(lines)]
        caption = "Each member's predicted score for the top picks."
        replies.append(Reply(caption, picture=Picture("group", chat.chat_id)))
        return Outcome(replies=replies)

    # ------------------------------------------------------------------ plain text

    def _plain_text(self, sender: Sender, text: str) -> Outcome:
        self._remember(sender)
        waiting = state.get_state(self.db, sender.user_id).get("awaiting_score")
        if waiting is not None:
            try:
                score = parse_score(text)
            except BadScore:
                return Outcome.say(BAD_SCORE)
            if score is not None:
                return self._store(sender, self.service.movie(waiting), score)
        if len(text) > MAX_QUERY_LENGTH:
            return Outcome.say(
                "That's a long message! To rate a movie: /rate Ted 8. /help for more."
            )
        try:
            title, score = split_title_and_score(text)
        except BadScore:
            return Outcome.say(BAD_SCORE)
        try:
            winner = clear_winner(self.service.find(title, limit=3))
        except InvalidArgument:
            winner = None
        if winner is None or winner.score < NUDGE_MIN_SCORE:
            return Outcome.say("I only understand commands. /help shows them; /rate Ted 8 rates.")
        movie = self.service.movie(winner.movie_id)
        if score is not None:
            return Outcome.say(
                f"Did you mean to rate {movie.label} {score}/10? Tap to confirm:",
                ((Button(f"Yes, {score}/10", callbacks.encode(Verb.RATE, movie.id, score)),),),
            )
        self._save_state(sender, awaiting_score=movie.id)
        return Outcome.say(f"Want to rate {describe(movie)}?", score_buttons(movie.id))

    # ------------------------------------------------------------------ buttons

    def _tap_rate(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        if not 1 <= cb.value <= 10:
            return Outcome(toast=SORRY_OLD_BUTTON)
        movie = self.service.movie(cb.target)
        change = ratings.set_rating(self.db, sender.user_id, movie.id, cb.value)
        confirmation = self._confirmation(movie, change.rating, change.previous)
        progress = state.get_state(self.db, sender.user_id).get("onboarding")
        if progress and progress["queue"] and progress["queue"][0] == movie.id:
            progress["queue"].pop(0)
            progress["rated"] += 1
            outcome = self._next_onboarding_movie(sender, progress)
            return Outcome(replies=outcome.replies, edit=Reply(confirmation), toast="Saved")
        self._clear_awaiting(sender, movie.id)
        return Outcome(edit=Reply(confirmation), toast="Saved")

    def _tap_skip(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        movie = self.service.movie(cb.target)
        progress = state.get_state(self.db, sender.user_id).get("onboarding")
        if not progress or not progress["queue"] or progress["queue"][0] != movie.id:
            return Outcome(edit=Reply(f"{movie.label}: skipped."))
        progress["queue"].pop(0)
        outcome = self._next_onboarding_movie(sender, progress)
        return Outcome(replies=outcome.replies, edit=Reply(f"{movie.label}: not seen, skipped."))

    def _tap_ask_score(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        movie = self.service.movie(cb.target)
        self._save_state(sender, awaiting_score=movie.id)
        return Outcome.say(f"How would you rate {describe(movie)}?", score_buttons(movie.id))

    def _tap_hide(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        movie = self.service.movie(cb.target)
        state.hide_movie(self.db, sender.user_id, movie.id)
        return Outcome(toast=f"Hidden: I won't recommend {movie.label[:150]} again.")

    def _tap_pick_rate(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        movie = self.service.movie(cb.target)
        if 1 <= cb.value <= 10:
            change = ratings.set_rating(self.db, sender.user_id, movie.id, cb.value)
            return Outcome(edit=Reply(self._confirmation(movie, change.rating, change.previous)))
        self._save_state(sender, awaiting_score=movie.id)
        return Outcome(
            edit=Reply(f"How would you rate {describe(movie)}?", score_buttons(movie.id))
        )

    def _tap_pick_similar(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        outcome = self._similar_to(self.service.movie(cb.target))
        return Outcome(edit=outcome.replies[0], replies=outcome.replies[1:])

    def _tap_pick_map(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        movie = self.service.movie(cb.target)
        outcome = self._map(sender, chat, "")
        reply = outcome.replies[0]
        if reply.picture is None:
            return Outcome(edit=reply)
        picture = Picture("map", sender.user_id, movie.id)
        caption = f"{reply.text} Marked: {movie.label}."
        return Outcome(
            edit=Reply("Okay: " + movie.label), replies=[Reply(caption, picture=picture)]
        )

    def _tap_page(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        return Outcome(edit=self._ratings_page(sender, max(cb.target, 1)))

    def _tap_forget(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        if cb.target != 1:
            return Outcome(edit=Reply("Okay, I kept everything."))
        deleted = users.forget_user(self.db, sender.user_id)
        return Outcome(
            edit=Reply(
                f"Done: I deleted your {deleted} rating{'s' if deleted != 1 else ''} and "
                "everything else about you. /start begins afresh."
            )
        )

    def _tap_cancel(self, sender: Sender, chat: Chat, cb: callbacks.Callback) -> Outcome:
        return Outcome(edit=Reply("Okay, never mind."))

    # ------------------------------------------------------------------ helpers

    @property
    def genres(self) -> dict[str, str]:
        if self._genres is None:
            self._genres = {g.casefold(): g for g in all_genres(self.db)}
        return self._genres

    def _resolve_title(
        self,
        title: str,
        on_found: Callable[[Movie], Outcome],
        pick: Callable[[TitleMatch], str],
    ) -> Outcome:
        """Find the movie meant by `title`: act on a clear match, ask between close ones."""
        if len(title) > MAX_QUERY_LENGTH:
            return Outcome.say(f"Titles are at most {MAX_QUERY_LENGTH} characters.")
        try:
            matches = self.service.find(title)
        except InvalidArgument:
            matches = []
        if not matches:
            shown = title if len(title) <= 60 else title[:57] + "..."
            return Outcome.say(
                f'I couldn\'t find a movie called "{shown}". Check the spelling, or add the '
                "year, like: Cinderella 2015."
            )
        winner = clear_winner(matches)
        if winner is not None:
            return on_found(self.service.movie(winner.movie_id))
        buttons = tuple((Button(m.label[:60], pick(m)),) for m in matches[:5])
        cancel = (Button("None of these", callbacks.encode(Verb.CANCEL, 0)),)
        return Outcome.say("Which one do you mean?", (*buttons, cancel))

    def _rate_or_ask(self, sender: Sender, movie: Movie, score: int | None) -> Outcome:
        if score is None:
            self._save_state(sender, awaiting_score=movie.id)
            return Outcome.say(f"How would you rate {describe(movie)}?", score_buttons(movie.id))
        return self._store(sender, movie, score)

    def _store(self, sender: Sender, movie: Movie, score: int) -> Outcome:
        change = ratings.set_rating(self.db, sender.user_id, movie.id, score)
        self._clear_awaiting(sender, movie.id)
        return Outcome.say(self._confirmation(movie, change.rating, change.previous))

    @staticmethod
    def _confirmation(movie: Movie, rating: int, previous: int | None) -> str:
        if previous is None:
            return f"{movie.label}: {rating}/10 ✓"
        if previous == rating:
            return f"{movie.label}: {rating}/10 ✓ (unchanged)"
        return f"{movie.label}: {rating}/10 ✓ (replaces your earlier {previous}/10)"

    def _similar_to(self, movie: Movie) -> Outcome:
        nearest = self.service.similar(movie.id, 10)
        if not nearest:
            count = self.service.rating_count(movie.id)
            return Outcome.say(
                f"I don't know {movie.label} well enough yet to find movies like it "
                f"({count} rating{'s' if count != 1 else ''}). Try a better-known one."
            )
        lines = [f"Movies like {movie.label}:"]
        for i, (other, similarity) in enumerate(nearest, start=1):
            lines.append(f"{i}. {other.label} · {similarity:.2f} similar")
        return Outcome(replies=[Reply(chunk) for chunk in split_text(lines)])

    def _ratings_page(self, sender: Sender, page: int) -> Reply:
        total = ratings.count_user_ratings(self.db, sender.user_id)
        if total == 0:
            return Reply("You haven't rated anything yet. /start or /rate Ted 8 to begin.")
        pages = (total + RATINGS_PAGE - 1) // RATINGS_PAGE
        page = min(page, pages)
        offset = (page - 1) * RATINGS_PAGE
        rows = ratings.user_ratings_page(self.db, sender.user_id, offset=offset, limit=RATINGS_PAGE)
        lines = [f"Your ratings ({offset + 1}-{offset + len(rows)} of {total}):"]
        lines += [f"{movie.label}: {rating}/10" for movie, rating in rows]
        nav = []
        if page > 1:
            nav.append(Button("◀ Newer", callbacks.encode(Verb.PAGE, page - 1)))
        if page < pages:
            nav.append(Button("Older ▶", callbacks.encode(Verb.PAGE, page + 1)))
        return Reply("\n".join(lines), (tuple(nav),) if nav else ())

    def _next_onboarding_movie(self, sender: Sender, progress: dict) -> Outcome:
        """Show the next onboarding movie, or finish when enough are rated."""
        if progress["rated"] >= ONBOARDING_SIZE or not progress["queue"]:
            self._save_state(sender, onboarding=None)
            return Outcome.say(
                f"Thanks! That's {progress['rated']} rated. /recommend shows what I'd pick for "
                "you; /rate any movie to sharpen it."
            )
        self._save_state(sender, onboarding=progress)
        movie = self.service.movie(progress["queue"][0])
        number = progress["rated"] + 1
        return Outcome.say(
            f"{number}/{ONBOARDING_SIZE}: {describe(movie)}\nHow would you rate it?",
            score_buttons(movie.id, with_skip=True),
        )

    def _save_state(self, sender: Sender, **changes: object) -> None:
        current = state.get_state(self.db, sender.user_id)
        for key, value in changes.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        state.set_state(self.db, sender.user_id, current)

    def _clear_awaiting(self, sender: Sender, movie_id: int) -> None:
        if state.get_state(self.db, sender.user_id).get("awaiting_score") == movie_id:
            self._save_state(sender, awaiting_score=None)

    @staticmethod
    def _first_name(display_name: str | None) -> str:
        return (display_name or "Someone").split()[0][:40] if display_name else "Someone"


def _years_label(years: tuple[int, int]) -> str:
    """ "from 1994", "from the 1990s", "from 1990-2005"."""
    lo, hi = years
    if lo == hi:
        return f"from {lo}"
    if lo % 10 == 0 and hi == lo + 9:
        return f"from the {lo}s"
    return f"from {lo}-{hi}"
