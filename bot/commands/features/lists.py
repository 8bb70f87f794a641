"""A person's lists: /myratings, /watchlist, /hidden and /seen, newest first, ten a page, with
a button on each movie (remove, rate, unhide, unseen) that redraws the page it was on.

The four share one page builder (`_page`) over one storage query (storage/lists.py); each
list says only what differs: its texts, its line per movie and its buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.commands.parsing import parse_count
from bot.commands.router import Context, Router, Where
from bot.ui import callbacks
from bot.ui.callbacks import Callback, Verb
from bot.ui.cards import title_link
from bot.ui.html import esc
from bot.ui.i18n import N_, _
from bot.ui.paging import page_buttons, page_window
from bot.ui.replies import Button, Outcome, Reply
from storage import lists, ratings, state, watchlist
from storage.lists import MovieList
from storage.movies import Movie, get_movie

PAGE_SIZE = 10
MAX_PAGE = 100_000

router = Router()


@dataclass(frozen=True)
class ListView:
    """How one list is shown."""

    which: MovieList
    usage: str  # the answer to a bad page number
    empty: str
    header: str  # {first}-{last} of {total}
    line: Callable[[int, Movie, object], str]  # the n-th movie's line
    buttons: Callable[[int, Movie, int], tuple[Button, ...]]  # the n-th movie's, on page p
    per_row: int  # buttons in a row
    nav: Verb  # the newer/older buttons'


RATINGS = ListView(
    MovieList.RATINGS,
    usage=N_("Ask like /myratings or /myratings 2 (a page number)."),
    empty=N_("You haven't rated anything yet. /start or /rate Ted 8 to begin."),
    header=N_("Your ratings ({first}-{last} of {total}):"),
    line=lambda i, movie, rating: f"{i}. {esc(movie.label)}: {rating}/10",
    buttons=lambda i, movie, page: (
        Button(_("Remove {n}").format(n=i), callbacks.encode(Verb.REMOVE, movie.id, page)),
    ),
    per_row=5,
    nav=Verb.PAGE,
)
WATCHLIST = ListView(
    MovieList.WATCHLIST,
    usage=N_("Ask like /watchlist or /watchlist 2 (a page number)."),
    empty=N_(
        'Your watchlist is empty. Tap "Save" under /recommend or /similar to keep a '
        "movie for later."
    ),
    header=N_("Your watchlist ({first}-{last} of {total}):"),
    line=lambda i, movie, _added: f"{i}. {title_link(movie)}",
    buttons=lambda i, movie, page: (
        Button(_("Rate {n}").format(n=i), callbacks.encode(Verb.ASK_SCORE, movie.id)),
        Button(_("Remove {n}").format(n=i), callbacks.encode(Verb.UNSAVE, movie.id, page)),
    ),
    per_row=2,
    nav=Verb.WATCH_PAGE,
)
HIDDEN = ListView(
    MovieList.HIDDEN,
    usage=N_("Ask like /hidden or /hidden 2 (a page number)."),
    empty=N_('You haven\'t hidden any movie. "Hide" under /recommend hides one.'),
    header=N_("Movies you hid ({first}-{last} of {total}):"),
    line=lambda i, movie, _none: f"{i}. {esc(movie.label)}",
    buttons=lambda i, movie, page: (
        Button(_("Unhide {n}").format(n=i), callbacks.encode(Verb.UNHIDE, movie.id, page)),
    ),
    per_row=5,
    nav=Verb.HIDDEN_PAGE,
)

SEEN = ListView(
    MovieList.SEEN,
    usage=N_("Ask like /seen or /seen 2 (a page number)."),
    empty=N_('You haven\'t marked any movie as seen. "Seen" under /recommend does.'),
    header=N_("Movies you saw, without a score ({first}-{last} of {total}):"),
    line=lambda i, movie, _none: f"{i}. {title_link(movie)}",
    buttons=lambda i, movie, page: (
        Button(_("Rate {n}").format(n=i), callbacks.encode(Verb.ASK_SCORE, movie.id)),
        Button(_("Unseen {n}").format(n=i), callbacks.encode(Verb.UNSEEN, movie.id, page)),
    ),
    per_row=2,
    nav=Verb.SEEN_PAGE,
)


def _page(ctx: Context, view: ListView, page: int) -> Reply:
    """One page of the sender's list: a line and buttons for each movie, buttons to the
    other pages."""
    total = lists.count(ctx.db, ctx.user_id, view.which)
    if total == 0:
        return Reply(_(view.empty))
    page, pages, offset = page_window(total, page, PAGE_SIZE)
    rows = lists.page(ctx.db, ctx.user_id, view.which, offset=offset, limit=PAGE_SIZE)
    header = _(view.header).format(first=offset + 1, last=offset + len(rows), total=total)
    numbered = list(enumerate(rows, start=offset + 1))
    lines = [header] + [view.line(i, movie, shown) for i, (movie, shown) in numbered]
    cells = [b for i, (movie, _shown) in numbered for b in view.buttons(i, movie, page)]
    rows_of_buttons = [
        tuple(cells[i : i + view.per_row]) for i in range(0, len(cells), view.per_row)
    ]
    nav = page_buttons(page, pages, view.nav)
    if nav:
        rows_of_buttons.append(nav)
    return Reply("\n".join(lines), tuple(rows_of_buttons))


def _show(ctx: Context, view: ListView, args: str) -> Outcome:
    """Answer the list's command: its first page, or the page asked for."""
    page = parse_count(args, 1, MAX_PAGE) if args else 1
    if page is None:
        return Outcome.say(_(view.usage))
    return Outcome(replies=[_page(ctx, view, page)])


@router.command(
    "myratings",
    Where.PRIVATE,
    rank=90,
    menu=N_("What you have rated"),
    help=N_("/myratings - what you have rated"),
)
def my_ratings(ctx: Context, args: str) -> Outcome:
    """Show a page of the sender's ratings."""
    return _show(ctx, RATINGS, args)


@router.command(
    "hidden",
    Where.PRIVATE,
    rank=110,
    menu=N_("Movies you hid, to unhide"),
    help=N_("/hidden - the movies you hid, with buttons to unhide them"),
)
def hidden(ctx: Context, args: str) -> Outcome:
    """Show a page of the movies the sender hid."""
    return _show(ctx, HIDDEN, args)


@router.command(
    "watchlist",
    Where.PRIVATE,
    rank=120,
    menu=N_("Movies you saved for later"),
    help=N_("/watchlist - the movies you saved for later"),
)
def watchlist_command(ctx: Context, args: str) -> Outcome:
    """Show a page of the sender's watchlist."""
    return _show(ctx, WATCHLIST, args)


@router.command(
    "seen",
    Where.PRIVATE,
    rank=125,
    menu=N_("Movies you marked as seen"),
    help=N_('/seen - the movies you marked "Seen", with buttons to undo it'),
)
def seen(ctx: Context, args: str) -> Outcome:
    """Show a page of the movies the sender marked seen without a score."""
    return _show(ctx, SEEN, args)


@router.tap(Verb.PAGE, personal=True)
def tap_ratings_page(ctx: Context, cb: Callback) -> Outcome:
    """Show another page of the sender's ratings in place."""
    return Outcome(edit=_page(ctx, RATINGS, max(cb.target, 1)))


@router.tap(Verb.HIDDEN_PAGE, personal=True)
def tap_hidden_page(ctx: Context, cb: Callback) -> Outcome:
    """Show another page of the sender's hidden movies in place."""
    return Outcome(edit=_page(ctx, HIDDEN, max(cb.target, 1)))


@router.tap(Verb.WATCH_PAGE, personal=True)
def tap_watch_page(ctx: Context, cb: Callback) -> Outcome:
    """Show another page of the sender's watchlist in place."""
    return Outcome(edit=_page(ctx, WATCHLIST, max(cb.target, 1)))


@router.tap(Verb.REMOVE, personal=True)
def tap_remove(ctx: Context, cb: Callback) -> Outcome:
    """Delete one of the sender's ratings and show that page of /myratings again."""
    movie = get_movie(ctx.db, cb.target)
    if ratings.delete_rating(ctx.db, ctx.user_id, movie.id):
        toast = _("Removed your rating of {title}.").format(title=movie.label[:150])
    else:
        toast = _("Already removed.")
    return Outcome(edit=_page(ctx, RATINGS, max(cb.value, 1)), toast=toast)


@router.tap(Verb.UNHIDE, personal=True)
def tap_unhide(ctx: Context, cb: Callback) -> Outcome:
    """Let a hidden movie back into the picks and show that page of /hidden again."""
    movie = get_movie(ctx.db, cb.target)
    state.unhide_movie(ctx.db, ctx.user_id, movie.id)
    return Outcome(
        edit=_page(ctx, HIDDEN, max(cb.value, 1)),
        toast=_("{title} can be recommended again.").format(title=movie.label[:150]),
    )


@router.tap(Verb.UNSAVE, personal=True)
def tap_unsave(ctx: Context, cb: Callback) -> Outcome:
    """Take the movie off the sender's watchlist and show the page again."""
    movie = get_movie(ctx.db, cb.target)
    watchlist.remove_from_watchlist(ctx.db, ctx.user_id, movie.id)
    return Outcome(
        edit=_page(ctx, WATCHLIST, max(cb.value, 1)),
        toast=_("Removed {title} from your watchlist.").format(title=movie.label[:150]),
    )


@router.tap(Verb.SEEN_PAGE, personal=True)
def tap_seen_page(ctx: Context, cb: Callback) -> Outcome:
    """Show another page of the sender's seen movies in place."""
    return Outcome(edit=_page(ctx, SEEN, max(cb.target, 1)))


@router.tap(Verb.UNSEEN, personal=True)
def tap_unseen(ctx: Context, cb: Callback) -> Outcome:
    """Undo "Seen": the movie may be picked again; show that page of /seen again."""
    movie = get_movie(ctx.db, cb.target)
    watchlist.unmark_seen(ctx.db, ctx.user_id, movie.id)
    return Outcome(
        edit=_page(ctx, SEEN, max(cb.value, 1)),
        toast=_("{title} is no longer marked seen: I may pick it again.").format(
            title=movie.label[:150]
        ),
    )
