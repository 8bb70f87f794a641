"""Getting going: /start and its onboarding cards, /about, /cancel, and "None of these"."""

from __future__ import annotations

from bot.commands import state as states
from bot.commands.common import (
    INVITE_PREFIX,
    catalog_coverage,
    load_state,
    next_card,
    onboarding_step,
)
from bot.commands.router import Context, Router, Where
from bot.commands.state import IDLE, Onboarding, OnboardingDone
from bot.service import ONBOARDING_SIZE
from bot.ui import names
from bot.ui.callbacks import Callback, Verb
from bot.ui.html import esc
from bot.ui.i18n import N_, _
from bot.ui.posters import JUSTWATCH_CREDIT
from bot.ui.replies import Outcome, Reply
from storage import chats, movienight
from storage.movies import get_movie

router = Router()


@router.command(
    "start",
    Where.BOTH,
    rank=10,
    menu=N_("Rate a few movies to get going"),
    menus=Where.PRIVATE,
    help=N_("/start - rate a few well-known movies to get going"),
)
def start(ctx: Context, args: str) -> Outcome:
    """Greet, then show the first onboarding card (or the one left open)."""
    if not ctx.chat.is_private:
        return Outcome.say(
            _(
                "Hi! I recommend movies. In this group, /join the pool and use /grouprec for "
                "picks everyone will like. Rate movies with me in a private chat."
            )
        )
    name = esc(names.first_name(ctx.sender.display_name, fallback=_("there")))
    joined = _join_by_invite(ctx, args)
    before = load_state(ctx)
    progress: Onboarding | OnboardingDone
    if before.onboarding is None:
        progress = Onboarding.begin(next_card(ctx))
        intro = _(
            "Hi {name}! I recommend movies from your ratings. Let's start with a few "
            "well-known ones: rate each from 1 (awful) to 10 (loved it), or tap "
            '"Haven\'t seen it". About {size} ratings are enough to begin.'
        ).format(name=name, size=ONBOARDING_SIZE)
    else:
        progress = before.onboarding
        intro = _("Welcome back, {name}! Let's carry on where we left off.").format(name=name)
    outcome = onboarding_step(ctx, before, progress)
    outcome.replies.insert(0, Reply(intro))
    if joined is not None:
        outcome.replies.insert(0, Reply(joined))
    return outcome


def _join_by_invite(ctx: Context, payload: str) -> str | None:
    """Join the pool a "rate privately" deep link stands for; what to say about it (None
    when /start came without one)."""
    if not payload.startswith(INVITE_PREFIX):
        return None
    chat_id = movienight.invited_chat(ctx.db, payload.removeprefix(INVITE_PREFIX))
    if chat_id is None:
        return _("That invite link isn't one of mine. Ask in the group for a fresh /grouprec.")
    if chats.join_pool(ctx.db, chat_id, ctx.user_id):
        return _("You joined the group's movie pool: your ratings here shape its picks.")
    return _("You're already in that group's movie pool.")


# IMDb's terms ask for this line, word for word, wherever its data is shown: not translated.
IMDB_ATTRIBUTION = "Information courtesy of IMDb (https://www.imdb.com). Used with permission."
# TMDB's terms ask for this notice where its API is used (posters, overviews, where to watch):
# shown when the bot runs with a TMDB key, as worded by TMDB.
TMDB_NOTICE = "This product uses the TMDB API but is not endorsed or certified by TMDB."


@router.command(
    "about",
    Where.BOTH,
    rank=205,
    menu=N_("What I am and where my movies come from"),
    menus=Where.PRIVATE,
    help=N_("/about - what I am and where my movie data comes from"),
)
def about(ctx: Context, args: str) -> Outcome:
    """Say what the bot is and where its catalog comes from."""
    what = _(
        "I'm moviebot: I learn your taste from your ratings and recommend what to watch next.\n"
        "My catalog is the MovieLens dataset by GroupLens (grouplens.org); when it is updated, "
        "new films and their facts come from IMDb's datasets."
    )
    notices = [IMDB_ATTRIBUTION]
    if ctx.service.tmdb is not None:
        notices.append(f"{TMDB_NOTICE} (themoviedb.org)\n{_(JUSTWATCH_CREDIT)}")
    return Outcome.say("\n".join([what, esc(catalog_coverage(ctx)), *notices]))


@router.command(
    "cancel",
    Where.BOTH,
    rank=200,
    menu=N_("Drop the current question"),
    menus=Where.PRIVATE,
    help=N_("/cancel - drop the current question"),
)
def cancel(ctx: Context, args: str) -> Outcome:
    """Drop the onboarding and any question waiting for a score."""
    had = load_state(ctx)
    states.save(ctx.db, ctx.user_id, IDLE)
    if had != IDLE:
        return Outcome.say(_("Okay, dropped that. /help shows what I can do."))
    return Outcome.say(_("There was nothing to cancel. /help shows what I can do."))


@router.tap(Verb.SKIP, personal=True)
def tap_skip(ctx: Context, cb: Callback) -> Outcome:
    """Skip the onboarding card not seen and show the next one."""
    movie = get_movie(ctx.db, cb.target)
    before = load_state(ctx)
    if before.onboarding is None or before.onboarding.current != movie.id:
        return Outcome(edit=Reply(_("{title}: skipped.").format(title=esc(movie.label))))
    progress = before.onboarding.card_skipped(next_card(ctx))
    outcome = onboarding_step(ctx, before, progress)
    skipped = _("{title}: not seen, skipped.").format(title=esc(movie.label))
    return Outcome(replies=outcome.replies, edit=Reply(skipped))


@router.tap(Verb.CANCEL, personal=False)
def tap_cancel(ctx: Context, cb: Callback) -> Outcome:
    """Drop the question the buttons asked."""
    return Outcome(edit=Reply(_("Okay, never mind.")))
