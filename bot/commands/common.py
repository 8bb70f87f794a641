"""What several features share: finding the movie a title means, storing a score, the score
buttons, the onboarding card and the person's stored conversation state.

Feature modules import this, never each other (tests/test_layout.py holds them to it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from bot.commands import state as states
from bot.commands.router import Context
from bot.commands.state import ConversationState, NextCard, Onboarding, OnboardingDone
from bot.service import ONBOARDING_SIZE
from bot.ui import callbacks, genres
from bot.ui.callbacks import Verb
from bot.ui.cards import describe
from bot.ui.html import esc
from bot.ui.i18n import N_, _, ngettext
from bot.ui.replies import Button, Outcome, Poster, Reply
from storage import ratings, state, users
from storage.movies import Movie, get_movie
from storage.search import MAX_QUERY_LENGTH, Kind, TitleMatch, clear_winner

SORRY_OLD_BUTTON = N_("That button has expired. Try the command again.")
NO_RATINGS_FOR_PICTURE = N_(
    "Rate a few movies first (/start, or /rate Ted 8), then I can draw your taste."
)
DATA_DELETED = N_(
    "You deleted your data with /forget, so I didn't save this score. To start again, rate "
    "afresh: /start or /rate Ted 8."
)
DEFAULT_RECOMMENDATIONS = 10
MAX_RECOMMENDATIONS = 50
BUTTONS_FOR_FIRST = 10  # rate/hide buttons for this many recommendations (Telegram caps at 100)


def score_buttons(movie_id: int, with_skip: bool = False) -> tuple[tuple[Button, ...], ...]:
    """Two rows of 1-10, and "Haven't seen it" for onboarding."""
    rows = [
        tuple(Button(str(s), callbacks.encode(Verb.RATE, movie_id, s)) for s in range(1, 6)),
        tuple(Button(str(s), callbacks.encode(Verb.RATE, movie_id, s)) for s in range(6, 11)),
    ]
    if with_skip:
        rows.append((Button(_("Haven't seen it"), callbacks.encode(Verb.SKIP, movie_id)),))
    return tuple(rows)


def how_would_you_rate(movie: Movie) -> str:
    """The question above the score buttons."""
    return _("How would you rate {movie}?").format(movie=describe(movie))


def ask_score(ctx: Context, movie: Movie) -> Outcome:
    """Ask for a score for `movie` with the score buttons (a typed score answers too)."""
    change_state(ctx, lambda s: s.ask_score(movie.id))
    return Outcome.say(how_would_you_rate(movie), score_buttons(movie.id))


def resolve_title(
    ctx: Context,
    title: str,
    on_found: Callable[[Movie], Outcome],
    pick: Callable[[TitleMatch], str],
) -> Outcome:
    """Find the movie meant by `title`: act on a strong clear match (storage.search.resolve),
    offer a weak match or close ones with buttons, else say nothing was found."""
    if len(title) > MAX_QUERY_LENGTH:
        return Outcome.say(_("Titles are at most {max} characters.").format(max=MAX_QUERY_LENGTH))
    resolution = ctx.service.resolve(title)
    if resolution.kind is Kind.NONE:
        shown = esc(title if len(title) <= 60 else title[:57] + "...")
        not_found = _(
            'I couldn\'t find a movie called "{title}". Check the spelling, or add the '
            "year, like: Cinderella 2015."
        ).format(title=shown)
        newest = ctx.service.coverage.newest_year
        if newest is not None and newest < datetime.now(UTC).year:
            newer = _("My catalog has films up to {year}, so a newer film may be missing.")
            not_found += " " + newer.format(year=newest)
        return Outcome.say(not_found)
    if resolution.movie is not None:
        return on_found(get_movie(ctx.db, resolution.movie.movie_id))
    # A weak match is only ever offered: acting on it saved junk ("asdfgh" as M*A*S*H).
    choices = resolution.choices
    buttons = tuple((Button(m.label[:60], pick(m)),) for m in choices)
    cancel = (Button(_("None of these"), callbacks.encode(Verb.CANCEL, 0)),)
    if clear_winner(list(choices)) is None:
        question = _("Which one do you mean?")
    else:
        question = _("Did you mean {title}?").format(title=esc(choices[0].label[:150]))
    return Outcome.say(question, (*buttons, cancel))


def catalog_coverage(ctx: Context) -> str:
    """What the catalog covers, one sentence for /about and /help."""
    covered = ctx.service.coverage
    year = covered.newest_year or "?"
    if covered.updated is None:
        return ngettext(
            "My catalog is the bundled MovieLens one: {films} film, up to {year}.",
            "My catalog is the bundled MovieLens one: {films} films, up to {year}.",
            covered.films,
        ).format(films=covered.films, year=year)
    return ngettext(
        "My catalog has {films} film, up to {year}; updated {date}.",
        "My catalog has {films} films, up to {year}; updated {date}.",
        covered.films,
    ).format(films=covered.films, year=year, date=covered.updated)


def store_score(ctx: Context, movie: Movie, score: int) -> str:
    """Store the sender's score for `movie` (typed, tapped or picked) and say so."""
    change = ratings.set_rating(ctx.db, ctx.user_id, movie.id, score)
    change_state(ctx, lambda s: s.scored(movie.id))
    return confirmation(movie, change.rating, change.previous)


def forgotten(ctx: Context) -> bool:
    """Whether the sender used /forget and has not started again (no ratings, no card
    waiting for a score): a button from before the /forget."""
    return (
        users.was_forgotten(ctx.db, ctx.user_id)
        and ratings.count_user_ratings(ctx.db, ctx.user_id) == 0
        and not state.get_state(ctx.db, ctx.user_id)
    )


def confirmation(movie: Movie, rating: int, previous: int | None) -> str:
    """ "Ted (2012): 8/10 ✓", saying so when it replaced another score."""
    label = esc(movie.label)
    if previous is None:
        return f"{label}: {rating}/10 ✓"
    if previous == rating:
        return _("{title}: {rating}/10 ✓ (unchanged)").format(title=label, rating=rating)
    return _("{title}: {rating}/10 ✓ (replaces your earlier {previous}/10)").format(
        title=label, rating=rating, previous=previous
    )


def typed_genres(ctx: Context) -> dict[str, str]:
    """The catalog's genres by their case-folded name in any language."""
    return _typed_genres(ctx.service.genres)


@lru_cache(maxsize=4)
def _typed_genres(catalog: tuple[str, ...]) -> dict[str, str]:
    """`genres.by_typed_name` of one catalog's genres, worked out once."""
    return genres.by_typed_name(catalog)


# ------------------------------------------------------------------ state and onboarding


def load_state(ctx: Context) -> ConversationState:
    """What the sender is in the middle of."""
    return states.load(ctx.db, ctx.user_id)


def save_state(ctx: Context, before: ConversationState, after: ConversationState) -> None:
    """Store the sender's new state when it changed."""
    if after != before:
        states.save(ctx.db, ctx.user_id, after)


def change_state(
    ctx: Context, transition: Callable[[ConversationState], ConversationState]
) -> None:
    """Apply one transition to the sender's stored state."""
    before = load_state(ctx)
    save_state(ctx, before, transition(before))


def next_card(ctx: Context) -> NextCard:
    """The service's choice of the sender's next onboarding card, given the skipped ones."""
    return lambda skipped: ctx.service.next_onboarding_movie(ctx.user_id, skipped)


def onboarding_step(
    ctx: Context, before: ConversationState, progress: Onboarding | OnboardingDone
) -> Outcome:
    """Store the onboarding progress; show its card, or the thanks when it is done."""
    save_state(ctx, before, before.with_onboarding(progress))
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
    movie = get_movie(ctx.db, progress.current)
    card = f"{progress.rated + 1}/{ONBOARDING_SIZE}: {describe(movie)}"
    text = card + "\n" + _("How would you rate it?")
    buttons = score_buttons(movie.id, with_skip=True)
    return Outcome(replies=[Reply(text, buttons, poster=Poster(movie.id))])


# /start's payload from a group's "rate privately" deep link: pool_<the group's invite token>.
INVITE_PREFIX = "pool_"
