"""A card with a poster: what TMDB says about the film (a line about it in the reader's language,
its runtime, where to watch it in their country) above the reply's own text, as the poster's
caption; or split into the poster with the film's lines and the text after it when the caption
would pass Telegram's limit.

    caption, rest = poster_caption(reply.text, title_link(movie), facts, "es", "ES")
    # rest is None: one photo message; else a photo with `caption`, then `rest` as a message
"""

from __future__ import annotations

from bot.tmdb.facts import FilmFacts
from bot.ui import countries, i18n
from bot.ui.html import esc, italic, link, to_plain
from bot.ui.i18n import N_

MAX_CAPTION = 1024  # Telegram's limit, counted after entity parsing
OVERVIEW_CHARS = 200  # "a line about the film": longer overviews are cut at a word
# JustWatch's terms ask for this credit wherever its data shows (TMDB passes it on).
JUSTWATCH_CREDIT = N_("Streaming data: JustWatch")
KIND_LABELS = (("flatrate", N_("Stream")), ("rent", N_("Rent")), ("buy", N_("Buy")))
MAX_SERVICES = 3  # per kind: the first few by TMDB's display priority


def visible_length(html_text: str) -> int:
    """How long Telegram counts the HTML once parsed (UTF-16 code units, its measure)."""
    return len(to_plain(html_text).encode("utf-16-le")) // 2


def one_line(overview: str, limit: int = OVERVIEW_CHARS) -> str:
    """The overview's first sentence, or its first `limit` characters cut at a word."""
    text = " ".join(overview.split())
    end = text.find(". ")
    if 0 < end < limit:
        return text[: end + 1]
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def film_lines(title: str, facts: FilmFacts, language: str, country: str) -> list[str]:
    """The film's lines (HTML): its `title` (HTML), runtime and overview, then where to watch
    it in `country` with JustWatch's credit (in `language`)."""
    with i18n.speaking(language):
        lines = []
        about = [f"<b>{title}</b>"]
        if facts.runtime:
            about.append(esc(i18n._("{minutes} min").format(minutes=facts.runtime)))
        if overview := facts.overview(language):
            about.append(italic(one_line(overview)))
        lines.append(" · ".join(about))
        offers = facts.offers_in(country)
        if offers is not None:
            kinds = [
                f"{esc(i18n._(label))}: {esc(', '.join(offers.names(kind)[:MAX_SERVICES]))}"
                for kind, label in KIND_LABELS
                if offers.names(kind)
            ]
            where = " · ".join(kinds)
            if offers.link:
                where += " · " + link(i18n._("Where to watch") + " ↗", offers.link)
            lines.append(f"{countries.flag(country)} {where}")
            lines.append(esc(i18n._(JUSTWATCH_CREDIT)))
    return lines


def poster_caption(
    text: str, title: str, facts: FilmFacts, language: str, country: str
) -> tuple[str, str | None]:
    """(the poster's caption, the text to send after it or None): the film's lines (its
    `title`, HTML, first) above `text` when both fit in a caption, else the film's lines alone
    and `text` after them."""
    block = "\n".join(film_lines(title, facts, language, country))
    joined = f"{block}\n\n{text}"
    if visible_length(joined) <= MAX_CAPTION:
        return joined, None
    return block, text
