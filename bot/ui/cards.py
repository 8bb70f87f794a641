"""Movie cards: a movie's title as a link, its genres, and its link buttons (HTML, bot/ui/html.py).

    title_link(movie)  -> '<a href="https://www.imdb.com/title/tt1637725/">Ted (2012)</a>'
    link_buttons(movie) -> (IMDb ↗, Letterboxd ↗, Where to watch ↗), those it has ids for

IMDb by the catalog's IMDb id, Letterboxd by its TMDB id (letterboxd.com/tmdb/<id>/ redirects
to the film), and a "where to watch" search on JustWatch by title, which needs no id at all,
on the site of the country of the answer (bot/ui/countries.py).
"""

from __future__ import annotations

from bot.ui import callbacks, countries, genres
from bot.ui.callbacks import Verb
from bot.ui.html import esc, link
from bot.ui.i18n import _
from bot.ui.replies import Button
from storage.movies import Movie


def letterboxd_url(movie: Movie) -> str | None:
    """The movie's Letterboxd page, found by its TMDB id."""
    return f"https://letterboxd.com/tmdb/{movie.tmdb_id}/" if movie.tmdb_id else None


def watch_url(movie: Movie) -> str:
    """A search for where the movie streams in the answer's country (JustWatch, by title and
    year)."""
    return countries.justwatch_url(movie.label)


def title_link(movie: Movie) -> str:
    """The movie's label linked to its IMDb page (just the escaped label without an id)."""
    return link(movie.label, movie.imdb_url) if movie.imdb_url else esc(movie.label)


def describe(movie: Movie) -> str:
    """The movie's linked label and its genres, on two lines (HTML)."""
    listed = genres.shown_list(movie.genres) if movie.genres else _("no genres listed")
    return f"{title_link(movie)}\n{esc(listed)}"


def link_buttons(movie: Movie) -> tuple[Button, ...]:
    """One row of link buttons for the movie: IMDb, Letterboxd, where to watch."""
    row = []
    if movie.imdb_url:
        row.append(Button("IMDb ↗", url=movie.imdb_url))
    if (letterboxd := letterboxd_url(movie)) is not None:
        row.append(Button("Letterboxd ↗", url=letterboxd))
    row.append(Button(_("Where to watch") + " ↗", url=watch_url(movie)))
    return tuple(row)


def bold_link(movie: Movie) -> str:
    """The movie's linked label in bold (a winner, a headline)."""
    return f"<b>{title_link(movie)}</b>"


# "Tell me when" (Verb.TELL_ME): from a card, a tap watches the film and a second one stops;
# from an alert, the button stops watching it.
TELL_ME_TOGGLE, TELL_ME_STOP = 1, 2


def tell_me_row(movie: Movie) -> tuple[Button, ...]:
    """The row under a film card that asks to be told when the film streams or is out."""
    title = movie.label if len(movie.label) <= 40 else movie.label[:39] + "…"
    label = _("Tell me when {title} streams or is out").format(title=title)
    return (Button("🔔 " + label, callbacks.encode(Verb.TELL_ME, movie.id, TELL_ME_TOGGLE)),)
