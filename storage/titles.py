"""MovieLens title parsing and the normalisation that title search compares on.

MovieLens writes "Matrix, The (1999)" and "City of Lost Children, The (Cité des enfants
perdus, La) (1995)": the year in trailing parentheses, a leading article moved to the end, and
alternative titles in further parentheses. People type "the matrix" or "matrix 1999".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Articles MovieLens moves to the end, in the languages its catalog uses.
ARTICLES = (
    "The", "A", "An", "Les", "La", "Le", "L'", "Il", "Lo", "I", "Gli", "Das", "Der", "Die",
    "Den", "Det", "De", "Het", "El", "Los", "Las", "Un", "Una", "Une", "Ein", "Eine", "O", "Os",
    "As", "Ta", "To", "Hoi",
)  # fmt: skip
_ARTICLE_AT_END = re.compile(r"^(?P<body>.+), (?P<article>" + "|".join(ARTICLES) + r")$")
_YEAR_AT_END = re.compile(r"\s*\((?P<year>\d{4})(?:\s*[-–]\s*(?:\d{4})?)?\)\s*$")
_PARENTHESISED_AT_END = re.compile(r"\s*\((?P<inner>[^()]*)\)\s*$")
_LEADING_ARTICLE = re.compile(r"^(the|a|an|les|la|le|l|il|das|der|die|el|los|las) ")
_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class ParsedTitle:
    """A MovieLens title split into display title, year and alternative titles."""

    title: str
    year: int | None
    aliases: tuple[str, ...]


def _move_article_to_front(text: str) -> str:
    match = _ARTICLE_AT_END.match(text.strip())
    if not match:
        return text.strip()
    article, body = match["article"], match["body"]
    joiner = "" if article.endswith("'") else " "
    return f"{article}{joiner}{body}"


def parse_movielens_title(raw: str) -> ParsedTitle:
    """Split "Postman, The (Postino, Il) (1994)" into ("The Postman", 1994, ("Il Postino",))."""
    text = raw.strip()
    year = None
    match = _YEAR_AT_END.search(text)
    if match:
        year = int(match["year"])
        text = text[: match.start()]
    aliases: list[str] = []
    # Alternative titles trail the main one in parentheses; keep "(500) Days of Summer" intact.
    while (match := _PARENTHESISED_AT_END.search(text)) and match.start() > 0:
        inner = match["inner"].strip()
        if inner.lower().startswith("a.k.a. "):
            inner = inner[7:]
        if inner:
            aliases.insert(0, _move_article_to_front(inner))
        text = text[: match.start()]
    title = _move_article_to_front(text) or raw.strip()
    return ParsedTitle(title=title, year=year, aliases=tuple(aliases))


def normalize(text: str) -> str:
    """Lower-case, strip accents and punctuation, "&" as "and", drop a leading article.

    "Matrix, The", "the matrix" and "Matrix" all normalise to "matrix".
    """
    ascii_ish = _move_article_to_front(text)
    if not ascii_ish.isascii():  # the same either way; skipping it halves a catalog's index build
        decomposed = unicodedata.normalize("NFKD", ascii_ish)
        ascii_ish = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = ascii_ish.casefold().replace("&", " and ")
    words = _NON_WORD.sub(" ", lowered.replace("'", "")).strip()
    return _LEADING_ARTICLE.sub("", words, count=1)


_QUERY_YEAR = re.compile(r"(?:^|\s)\(?(?P<year>(?:18|19|20)\d{2})\)?\s*$")


def split_query_year(query: str) -> tuple[str, int | None]:
    """Take a trailing year off what a person typed: "Cinderella 2015" -> ("Cinderella", 2015).

    A title that is only a number ("1917", "2012") keeps it as the title.
    """
    match = _QUERY_YEAR.search(query.strip())
    if not match or not query[: match.start()].strip():
        return query.strip(), None
    return query[: match.start()].strip(), int(match["year"])
