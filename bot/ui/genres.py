"""The catalog's genres as a person reads and types them, in their language.

MovieLens's genres are stored in English ("Sci-Fi"); they are shown translated and typed in any
of the bot's languages (/recommend 5 комедия). A genre not listed here (another dataset's) is
shown and typed as the catalog has it.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.ui import i18n
from bot.ui.i18n import N_, _

# MovieLens's genres; each is the msgid of its translations.
KNOWN = frozenset(
    {
        N_("Action"),
        N_("Adventure"),
        N_("Animation"),
        N_("Children"),
        N_("Comedy"),
        N_("Crime"),
        N_("Documentary"),
        N_("Drama"),
        N_("Fantasy"),
        N_("Film-Noir"),
        N_("Horror"),
        N_("IMAX"),
        N_("Musical"),
        N_("Mystery"),
        N_("Romance"),
        N_("Sci-Fi"),
        N_("Thriller"),
        N_("War"),
        N_("Western"),
    }
)


def shown(genre: str) -> str:
    """The genre's name in the current language."""
    return _(genre) if genre in KNOWN else genre


def shown_list(genres: Iterable[str]) -> str:
    """ "Comedy, Drama" in the current language."""
    return ", ".join(shown(g) for g in genres)


def typed(genre: str) -> str:
    """How to type the genre in the current language: one word ("ciencia-ficción")."""
    return "-".join(shown(genre).split())


def by_typed_name(catalog: Iterable[str]) -> dict[str, str]:
    """{the case-folded typed name in any of the bot's languages: the catalog's genre}."""
    names = {}
    for genre in catalog:
        names[genre.casefold()] = genre
        for language in i18n.LANGUAGES:
            with i18n.speaking(language):
                names[typed(genre).casefold()] = genre
    return names
