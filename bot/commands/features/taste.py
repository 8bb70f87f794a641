"""Pictures of taste: /taste (a person's genres and scores) and /map (where their taste sits
among the movies). The pictures are drawn when sent (bot/files/pictures.py)."""

from __future__ import annotations

from bot.commands.common import NO_RATINGS_FOR_PICTURE, resolve_title
from bot.commands.router import Context, Router, Where
from bot.ui import callbacks
from bot.ui.callbacks import Callback, Verb
from bot.ui.html import esc
from bot.ui.i18n import N_, _, ngettext
from bot.ui.replies import Outcome, Picture, Reply
from storage import ratings
from storage.movies import Movie, get_movie
from storage.search import TitleMatch

router = Router()


@router.command(
    "taste",
    Where.PRIVATE,
    rank=150,
    menu=N_("A picture of your taste"),
    help=N_("/taste - a picture of your taste"),
)
def taste(ctx: Context, args: str) -> Outcome:
    """Ask for the picture of the sender's taste."""
    count = ratings.count_user_ratings(ctx.db, ctx.user_id)
    if count == 0:
        return Outcome.say(_(NO_RATINGS_FOR_PICTURE))
    caption = ngettext(
        "Your taste, from your {count} rating.", "Your taste, from your {count} ratings.", count
    ).format(count=count)
    return Outcome(replies=[Reply(caption, picture=Picture("taste", ctx.user_id))])


@router.command(
    "map",
    Where.PRIVATE,
    rank=160,
    menu=N_("Where your taste sits: /map Frozen"),
    help=N_("/map [title] - where your taste sits on a map of movies, e.g. /map Frozen"),
)
def movie_map(ctx: Context, args: str) -> Outcome:
    """Ask for the movie map, with the named movie marked."""
    if ratings.count_user_ratings(ctx.db, ctx.user_id) == 0:
        return Outcome.say(_(NO_RATINGS_FOR_PICTURE))

    def draw(focus: Movie | None) -> Outcome:
        """Ask for the map, with `focus` marked."""
        caption = _("Where your taste sits: movies close together are liked by the same people.")
        if focus is not None:
            caption += " " + _("Marked: {title}.").format(title=esc(focus.label))
        picture = Picture("map", ctx.user_id, focus.id if focus else None)
        return Outcome(replies=[Reply(caption, picture=picture)])

    if not args:
        return draw(None)
    return resolve_title(ctx, args, on_found=draw, pick=_map_pick)


def _map_pick(match: TitleMatch) -> str:
    """The button data for one candidate of an ambiguous /map title."""
    # Ambiguous /map titles are rare; the choice draws the map without a focus question.
    return callbacks.encode(Verb.PICK_MAP, match.movie_id)


@router.tap(Verb.PICK_MAP, personal=True)
def tap_pick_map(ctx: Context, cb: Callback) -> Outcome:
    """Ask for the movie map marking the movie picked from an ambiguous /map."""
    movie = get_movie(ctx.db, cb.target)
    outcome = movie_map(ctx, "")
    reply = outcome.replies[0]
    if reply.picture is None:
        return Outcome(edit=reply)
    picture = Picture("map", ctx.user_id, movie.id)
    caption = reply.text + " " + _("Marked: {title}.").format(title=esc(movie.label))
    return Outcome(
        edit=Reply(_("Okay: {title}").format(title=esc(movie.label))),
        replies=[Reply(caption, picture=picture)],
    )
