"""Rating: /rate, /undo, a score or title typed in a private chat, and the score buttons."""

from __future__ import annotations

from bot.commands.common import (
    DATA_DELETED,
    SORRY_OLD_BUTTON,
    ask_score,
    forgotten,
    how_would_you_rate,
    load_state,
    next_card,
    onboarding_step,
    resolve_title,
    score_buttons,
    store_score,
)
from bot.commands.parsing import BadScore, parse_score, split_title_and_score
from bot.commands.router import Context, Router, Where
from bot.ui import callbacks
from bot.ui.callbacks import Callback, Verb
from bot.ui.cards import describe
from bot.ui.html import esc
from bot.ui.i18n import N_, _
from bot.ui.replies import Button, Outcome, Reply
from storage import ratings, users
from storage.movies import Movie, get_movie
from storage.search import MAX_QUERY_LENGTH

RATE_USAGE = N_("Tell me the title and a score from 1 to 10, like: /rate Ted 8")
BAD_SCORE = N_("Scores are whole numbers from 1 to 10, like: /rate Ted 8. Nothing was saved.")

router = Router()


@router.command(
    "rate",
    Where.PRIVATE,
    rank=20,
    menu=N_("Rate a movie: /rate Ted 8"),
    help=N_(
        "/rate <title> <1-10> - rate a movie, e.g. /rate Ted 8 (leave out the score to get buttons)"
    ),
)
def rate(ctx: Context, args: str) -> Outcome:
    """Store the rating, or ask for the score or which movie was meant."""
    if not args:
        return Outcome.say(_(RATE_USAGE))
    try:
        title, score = split_title_and_score(args)
    except BadScore:
        return Outcome.say(_(BAD_SCORE))
    return resolve_title(
        ctx,
        title,
        on_found=lambda movie: _rate_or_ask(ctx, movie, score),
        pick=lambda match: callbacks.encode(Verb.PICK_RATE, match.movie_id, score or 0),
    )


def _rate_or_ask(ctx: Context, movie: Movie, score: int | None) -> Outcome:
    """Store the score, or show the score buttons when there is none."""
    if score is None:
        return ask_score(ctx, movie)
    return Outcome.say(store_score(ctx, movie, score))


@router.command(
    "undo",
    Where.PRIVATE,
    rank=100,
    menu=N_("Remove your last rating"),
    help=N_("/undo - remove your last rating (again: the one before)"),
)
def undo(ctx: Context, args: str) -> Outcome:
    """Remove the sender's last rating and say which it was."""
    undone = ratings.undo_last_rating(ctx.db, ctx.user_id)
    if undone is None:
        return Outcome.say(_("There is no rating left to undo. /rate Ted 8 rates a movie."))
    movie, rating = undone
    return Outcome.say(
        _(
            "Removed your rating of {title} ({rating}/10). /undo again removes the one "
            "before; /myratings lists the rest."
        ).format(title=esc(movie.label[:150]), rating=rating)
    )


@router.on("plain_text")
def plain_text(ctx: Context, text: str) -> Outcome:
    """Take a typed score for the movie asked about, else offer to rate a typed title."""
    waiting = load_state(ctx).awaiting
    if waiting is not None:
        try:
            score = parse_score(text)
        except BadScore:
            return Outcome.say(_(BAD_SCORE))
        if score is not None:
            return Outcome.say(store_score(ctx, get_movie(ctx.db, waiting.movie_id), score))
    if len(text) > MAX_QUERY_LENGTH:
        return Outcome.say(
            _("That's a long message! To rate a movie: /rate Ted 8. /help for more.")
        )
    try:
        title, score = split_title_and_score(text)
    except BadScore:
        return Outcome.say(_(BAD_SCORE))
    winner = ctx.service.resolve(title).movie
    if winner is None:
        return Outcome.say(_("I only understand commands. /help shows them; /rate Ted 8 rates."))
    movie = get_movie(ctx.db, winner.movie_id)
    if score is not None:
        confirm = Button(
            _("Yes, {score}/10").format(score=score), callbacks.encode(Verb.RATE, movie.id, score)
        )
        return Outcome.say(
            _("Did you mean to rate {title} {score}/10? Tap to confirm:").format(
                title=esc(movie.label), score=score
            ),
            ((confirm,),),
        )
    ask_score(ctx, movie)
    return Outcome.say(
        _("Want to rate {movie}?").format(movie=describe(movie)), score_buttons(movie.id)
    )


def _refused_after_forget(ctx: Context) -> Outcome | None:
    """Refuse a score button sent before a /forget: storing its score would quietly bring the
    person back (None: go ahead)."""
    if not forgotten(ctx):
        return None
    users.forget_user(ctx.db, ctx.user_id)
    return Outcome(edit=Reply(_(DATA_DELETED)), toast=_("Not saved"))


@router.tap(Verb.RATE, personal=True)
def tap_rate(ctx: Context, cb: Callback) -> Outcome:
    """Store the tapped score; on the onboarding card, show the next card."""
    if not 1 <= cb.value <= 10:
        return Outcome(toast=_(SORRY_OLD_BUTTON))
    if (refused := _refused_after_forget(ctx)) is not None:
        return refused
    movie = get_movie(ctx.db, cb.target)
    before = load_state(ctx)
    confirmation = store_score(ctx, movie, cb.value)
    if before.onboarding is not None and before.onboarding.current == movie.id:
        progress = before.onboarding.card_rated(next_card(ctx))
        outcome = onboarding_step(ctx, before, progress)
        return Outcome(replies=outcome.replies, edit=Reply(confirmation), toast=_("Saved"))
    return Outcome(edit=Reply(confirmation), toast=_("Saved"))


@router.tap(Verb.ASK_SCORE, personal=True)
def tap_ask_score(ctx: Context, cb: Callback) -> Outcome:
    """Show the score buttons for a recommended movie."""
    return ask_score(ctx, get_movie(ctx.db, cb.target))


@router.tap(Verb.PICK_RATE, personal=True)
def tap_pick_rate(ctx: Context, cb: Callback) -> Outcome:
    """Store the score for the movie picked from an ambiguous /rate, or ask for it."""
    movie = get_movie(ctx.db, cb.target)
    if 1 <= cb.value <= 10:
        if (refused := _refused_after_forget(ctx)) is not None:
            return refused
        return Outcome(edit=Reply(store_score(ctx, movie, cb.value)))
    ask_score(ctx, movie)
    return Outcome(edit=Reply(how_would_you_rate(movie), score_buttons(movie.id)))
