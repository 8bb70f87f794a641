"""The films the fake TMDB knows: a few written out (posters, overviews in en/es/ru, providers
per country split flatrate/rent/buy) and, for tests that cannot know the bot's top pick in
advance, plain records made up for any catalog film (``made_up``).

A film here is TMDB's own data in a compact form; ``devtools/fake_tmdb/server.py`` turns it
into the documented response shapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# TMDB provider ids and names (the ones JustWatch lists in these countries).
NETFLIX = (8, "Netflix")
DISNEY = (337, "Disney Plus")
PRIME = (9, "Amazon Prime Video")
APPLE = (2, "Apple TV")
GOOGLE = (3, "Google Play Movies")
MAX = (1899, "Max")
MOVISTAR = (149, "Movistar Plus+")
KINOPOISK = (117, "Kinopoisk")
OKKO = (115, "Okko")


@dataclass
class Providers:
    """One country's offers: subscription (flatrate), rent and buy."""

    flatrate: list[tuple[int, str]] = field(default_factory=list)
    rent: list[tuple[int, str]] = field(default_factory=list)
    buy: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Film:
    """One TMDB movie: its ids, English facts, translations and watch providers by country."""

    id: int
    imdb_id: str | None
    title: str
    release_date: str  # "1995-10-30"
    runtime: int | None
    overview: str  # English
    poster_path: str | None  # "/abc.jpg"
    # language -> (title, overview); English comes from the fields above
    translations: dict[str, tuple[str, str]] = field(default_factory=dict)
    providers: dict[str, Providers] = field(default_factory=dict)  # "US" -> Providers
    genres: list[tuple[int, str]] = field(default_factory=list)
    original_language: str = "en"
    # country -> (TMDB release type, "2026-12-18"), beside the US theatrical one of release_date
    releases: dict[str, tuple[int, str]] = field(default_factory=dict)


TOY_STORY = Film(
    862,
    "tt0114709",
    "Toy Story",
    "1995-10-30",
    81,
    "Led by Woody, Andy's toys live happily in his room until Andy's birthday brings Buzz "
    "Lightyear onto the scene.",
    "/uXDfjJbdP4ijW5hWSBrPrlKpxab.jpg",
    {
        "es": (
            "Toy Story (Juguetes)",
            "Los juguetes de Andy viven felices en su habitación hasta que llega Buzz Lightyear.",
        ),
        "ru": ("История игрушек", "Игрушки Энди живут счастливо, пока не появляется Базз Лайтер."),
    },
    {
        "US": Providers(flatrate=[DISNEY], rent=[APPLE, GOOGLE], buy=[APPLE, GOOGLE, PRIME]),
        "ES": Providers(flatrate=[DISNEY], rent=[APPLE], buy=[APPLE]),
        "MX": Providers(flatrate=[DISNEY], buy=[GOOGLE]),
        "RU": Providers(flatrate=[KINOPOISK], rent=[OKKO]),
    },
    [(16, "Animation"), (35, "Comedy"), (10751, "Family")],
)

MATRIX = Film(
    603,
    "tt0133093",
    "The Matrix",
    "1999-03-30",
    136,
    "Set in the 22nd century, The Matrix tells the story of a computer hacker who joins a "
    "group of underground insurgents fighting the vast and powerful computers who now rule "
    "the earth.",
    "/f89U3ADr1oiB1s9GkdPOEpXUk5H.jpg",
    {
        "es": (
            "Matrix",
            "Un pirata informático descubre que el mundo es una simulación y se une a la "
            "resistencia contra las máquinas.",
        ),
        "ru": ("Матрица", "Хакер узнаёт, что мир вокруг него всего лишь симуляция."),
    },
    {
        "US": Providers(flatrate=[MAX], rent=[APPLE, PRIME], buy=[APPLE, PRIME]),
        "ES": Providers(flatrate=[NETFLIX, MOVISTAR], rent=[APPLE], buy=[APPLE, GOOGLE]),
        "MX": Providers(flatrate=[MAX], rent=[GOOGLE]),
    },
    [(28, "Action"), (878, "Science Fiction")],
)

TED = Film(
    72105,
    "tt1637725",
    "Ted",
    "2012-06-29",
    106,
    "John Bennett's wish for his teddy bear to come alive came true, and now the bear will "
    "not leave his side.",
    "/1QVZXQQHCEmj7r9abLMRJ7mu6lo.jpg",
    {"es": ("Ted", "El deseo de John se cumplió: su osito de peluche cobró vida.")},
    {
        "US": Providers(flatrate=[PRIME], buy=[APPLE]),
        "ES": Providers(flatrate=[NETFLIX], rent=[MOVISTAR]),
    },
    [(35, "Comedy"), (14, "Fantasy")],
)

FROZEN = Film(
    109445,
    "tt2294629",
    "Frozen",
    "2013-11-20",
    102,
    "Young princess Anna of Arendelle dreams about finding true love at her sister Elsa's "
    "coronation.",
    None,  # no poster: the bot falls back to its text card
    {"ru": ("Холодное сердце", "Принцесса Анна отправляется на поиски сестры Эльзы.")},
    {"US": Providers(flatrate=[DISNEY])},
    [(16, "Animation"), (10751, "Family")],
)

WRITTEN = (TOY_STORY, MATRIX, TED, FROZEN)


def made_up(tmdb_id: int, imdb_id: str | None, title: str, year: int | None) -> Film:
    """A plain record for a catalog film: a poster, an English and a Spanish overview, Netflix
    in the US and Spain for even ids, rent on Apple TV everywhere (predictable for tests)."""
    even = tmdb_id % 2 == 0
    return Film(
        tmdb_id,
        imdb_id,
        title,
        f"{year or 2000}-01-01",
        90 + tmdb_id % 60,
        f"What happens in {title}.",
        f"/poster{tmdb_id}.jpg",
        {"es": (title, f"Lo que pasa en {title}.")},
        {
            "US": Providers(flatrate=[NETFLIX] if even else [], rent=[APPLE]),
            "ES": Providers(flatrate=[NETFLIX] if even else [MOVISTAR], rent=[APPLE]),
        },
    )


def catalog(rows: Iterable[tuple[int, str | None, str, int | None]]) -> list[Film]:
    """Films for a whole catalog, from (tmdb id, imdb id, title, year) rows: the written ones
    as written, every other one made up."""
    written = {film.id: film for film in WRITTEN}
    return [written.get(tmdb_id) or made_up(tmdb_id, imdb, t, y) for tmdb_id, imdb, t, y in rows]
