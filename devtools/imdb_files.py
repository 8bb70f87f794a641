"""IMDb dataset files (title.basics, title.ratings, title.akas, title.crew .tsv.gz) for tests
and benchmarks, in IMDb's exact format: a header line, tabs, `\\N` for null, nothing quoted.

- `write_realistic(folder)`: a small real set: the bundled MovieLens films under their real
  IMDb ids (links.csv), the ~190 real 2019-2026 films of devtools/imdb_recent.txt with their
  Russian and Spanish titles, real Russian/Spanish titles of a few classics (Титаник), and
  what the real files hold besides films: series, episodes, shorts, an adult film, a film
  with few votes, `\\N`s, quotes and a tab inside titles, several genres per title.
- `write_synthetic(folder, titles=...)`: files of the real size (title.basics ~12 M rows,
  ~1 GB unpacked, three quarters of them episodes) with the same shape, for the benchmark.
- `imdb_export()` / `letterboxd_export()`: a realistic 2026 IMDb ratings export and a
  Letterboxd export of a person who rates both old and recent films.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import random
import shutil
import subprocess
import zipfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from devtools.history_files import (
    IMDB_HEADER,
    LETTERBOXD_HEADER,
    LETTERBOXD_RATINGS_HEADER,
    NOT_MOVIES,
    to_csv,
)
from moviebot.paths import bundled_dataset
from storage.imdb_files import AKAS, BASICS, CREW, HEADERS, RATINGS
from storage.titles import parse_movielens_title

# Real Russian and Spanish titles of some bundled films: (tconst, ru, es).
CLASSICS = [
    ("tt0120338", "Титаник", "Titanic"),
    ("tt0133093", "Матрица", "Matrix"),
    ("tt0109830", "Форрест Гамп", "Forrest Gump"),
    ("tt0068646", "Крёстный отец", "El padrino"),
    ("tt0110912", "Криминальное чтиво", "Pulp Fiction"),
    ("tt0137523", "Бойцовский клуб", "El club de la lucha"),
    ("tt0111161", "Побег из Шоушенка", "Cadena perpetua"),
    ("tt0245429", "Унесённые призраками", "El viaje de Chihiro"),
    ("tt0099785", "Один дома", "Solo en casa"),
    ("tt0088763", "Назад в будущее", "Regreso al futuro"),
    ("tt0110357", "Король Лев", "El rey león"),
    ("tt0108052", "Список Шиндлера", "La lista de Schindler"),
    ("tt0102926", "Молчание ягнят", "El silencio de los corderos"),
    ("tt1375666", "Начало", "Origen"),
    ("tt0816692", "Интерстеллар", "Interstellar"),
]
# Lines of the real files that are not films, or films the keep rule leaves out.
OTHER_TITLES = [
    # tconst, type, title, original, adult, year, end, runtime, genres, votes
    (
        "tt0903747",
        "tvSeries",
        "Breaking Bad",
        "Breaking Bad",
        0,
        2008,
        2013,
        49,
        "Crime,Drama,Thriller",
        2_300_000,
    ),
    (
        "tt0944947",
        "tvSeries",
        "Game of Thrones",
        "Game of Thrones",
        0,
        2011,
        2019,
        57,
        "Action,Adventure,Drama",
        2_400_000,
    ),
    (
        "tt0795176",
        "tvMiniSeries",
        "Planet Earth",
        "Planet Earth",
        0,
        2006,
        2006,
        538,
        "Documentary,Family",
        230_000,
    ),
    ("tt0959621", "tvEpisode", "Pilot", "Pilot", 0, 2008, None, 58, "Crime,Drama,Thriller", 60_000),
    (
        "tt2140553",
        "videoGame",
        "Grand Theft Auto V",
        "Grand Theft Auto V",
        0,
        2013,
        None,
        None,
        "Action,Crime,Drama",
        90_000,
    ),
    (
        "tt0000001",
        "short",
        "Carmencita",
        "Carmencita",
        0,
        1894,
        None,
        1,
        "Documentary,Short",
        2_100,
    ),
    (
        "tt3845232",
        "tvMovie",
        "Sherlock: The Abominable Bride",
        "Sherlock: The Abominable Bride",
        0,
        2016,
        None,
        90,
        "Crime,Drama,Mystery",
        90_000,
    ),
    ("tt9000001", "movie", "Adult Feature", "Adult Feature", 1, 2021, None, 80, "Adult", 5_000),
    (
        "tt9000002",
        "movie",
        "A Festival Film Few Saw",
        "Una película de festival",
        0,
        2024,
        None,
        95,
        "Drama",
        120,
    ),
    (
        "tt9000003",
        "movie",
        'The "Quoted" Film',
        'The "Quoted" Film',
        0,
        2020,
        None,
        101,
        "Comedy,Drama,Romance",
        4_200,
    ),
    ("tt9000004", "movie", "Tab\tInside", "Tab\tInside", 0, 2021, None, None, "\\N", 3_000),
    ("tt9000005", "movie", "Undated", "Undated", 0, None, None, None, "Horror", 9_000),
]
FEW_VOTES = "tt9000002"
NULL = "\\N"
RECENT = Path(__file__).with_name("imdb_recent.txt")


def recent_films() -> list[dict]:
    """The films of imdb_recent.txt: tconst, title, original, year, genres, runtime, ru, es,
    mx (the Mexican Spanish title, '' when it is Spain's)."""
    films = []
    for line in RECENT.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        tconst, title, original, year, genres, runtime, ru, es, mx = line.split("|")
        films.append(
            {"tconst": tconst, "title": title, "original": original or title, "year": int(year),
             "genres": genres, "runtime": None if runtime == NULL else runtime, "ru": ru,
             "es": es, "mx": mx}
        )  # fmt: skip
    return films


def _tsv(fields: Iterable[object]) -> str:
    return "\t".join(NULL if f is None or f == "" else str(f) for f in fields) + "\n"


@contextmanager
def _gzip_writer(path: Path, level: int = 6):
    """A text writer into a gzip file; through the `gzip` program when there is one (it then
    compresses on another core while Python writes)."""
    program = shutil.which("gzip")
    if program is None:
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=level, newline="") as out:
            yield out
        return
    with path.open("wb") as target:
        child = subprocess.Popen(
            [program, f"-{level}", "-c", "-n"], stdin=subprocess.PIPE, stdout=target
        )
        writer = io.TextIOWrapper(child.stdin, encoding="utf-8", newline="", write_through=False)
        try:
            yield writer
        finally:
            writer.close()
            if child.wait() != 0:
                raise RuntimeError(f"gzip failed writing {path}")


def _bundled() -> tuple[list[list[str]], dict[str, str], dict[str, tuple[int, float]]]:
    """The bundled MovieLens films, their IMDb ids by movieId, and (count, mean stars)."""
    with zipfile.ZipFile(bundled_dataset()) as archive:

        def rows(name: str) -> list[list[str]]:
            with archive.open(f"ml-latest-small/{name}") as raw:
                return list(csv.reader(io.TextIOWrapper(raw, encoding="utf-8")))[1:]

        movies, links, ratings = rows("movies.csv"), rows("links.csv"), rows("ratings.csv")
    imdb = {row[0]: f"tt{int(row[1]):07d}" for row in links if row[1]}
    totals: dict[str, list[float]] = {}
    for row in ratings:
        entry = totals.setdefault(row[1], [0, 0.0])
        entry[0] += 1
        entry[1] += float(row[2])
    stats = {m: (int(n), s / n) for m, (n, s) in totals.items()}
    return movies, imdb, stats


ML_GENRES = {"Children": "Family", "IMAX": None, "(no genres listed)": None}


def _movielens_rows() -> list[dict]:
    """The bundled films as IMDb would list them (primary title, original title, votes)."""
    movies, imdb, stats = _bundled()
    films, seen = [], set()
    for movie_id, raw_title, genres in movies:
        if movie_id not in imdb or imdb[movie_id] in seen:
            continue  # MovieLens lists a few films twice; IMDb has each id once
        seen.add(imdb[movie_id])
        parsed = parse_movielens_title(raw_title)
        count, mean = stats.get(movie_id, (0, 3.0))
        imdb_genres = [ML_GENRES.get(g, g) for g in genres.split("|")]
        films.append(
            {
                "tconst": imdb[movie_id],
                "title": parsed.title,
                "original": parsed.aliases[0] if parsed.aliases else parsed.title,
                "year": parsed.year,
                "genres": ",".join(sorted({g for g in imdb_genres if g})[:3]),
                "runtime": 90 + int(movie_id) % 60,
                # IMDb has ~3,000x MovieLens latest-small's votes for a well-known film.
                "votes": 150 + count * 3_000,
                "rating": round(min(9.3, max(1.0, mean * 2)), 1),
            }
        )
    return films


def write_realistic(folder: Path) -> Path:
    """The small real set (module docstring) in `folder`; returns `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    bundled = _movielens_rows()
    recent = recent_films()
    rng = random.Random(23)
    with (
        _gzip_writer(folder / BASICS) as basics,
        _gzip_writer(folder / RATINGS) as ratings,
        _gzip_writer(folder / AKAS) as akas,
        _gzip_writer(folder / CREW) as crew,
    ):
        for out, name in ((basics, BASICS), (ratings, RATINGS), (akas, AKAS), (crew, CREW)):
            out.write("\t".join(HEADERS[name]) + "\n")
        rows = []
        for film in bundled:
            rows.append((film, "movie", 0, None, film["votes"], film["rating"], [], []))
        classics = {tconst: (ru, es) for tconst, ru, es in CLASSICS}
        for film in recent:
            votes = int(40_000 + 900_000 * rng.random() ** 2)
            rating = round(6.0 + 2.5 * rng.random(), 1)
            ru = [("RU", "ru", film["ru"])] if film["ru"] else []
            es = [("ES", "es", film["es"])] + ([("MX", "es", film["mx"])] if film["mx"] else [])
            rows.append((film, "movie", 0, None, votes, rating, ru, es))
        for tconst, kind, title, original, adult, year, end, runtime, genres, votes in OTHER_TITLES:
            film = {"tconst": tconst, "title": title, "original": original, "year": year,
                    "genres": genres, "runtime": runtime}  # fmt: skip
            rows.append((film, kind, adult, end, votes, 7.1, [], []))
        rows.sort(key=lambda row: int(row[0]["tconst"][2:]))
        for film, kind, adult, end, votes, rating, ru, es in rows:
            tconst = film["tconst"]
            basics.write(
                _tsv(
                    [tconst, kind, film["title"], film["original"], adult, film["year"], end]
                    + [film["runtime"], film["genres"] or NULL]
                )
            )
            ratings.write(_tsv([tconst, f"{rating:.1f}", votes]))
            director = f"nm{int(tconst[2:]) % 9_000_000 + 1:07d}"
            crew.write(_tsv([tconst, director, f"{director},nm0000005"]))
            names = [
                ("\\N", "\\N", film["original"], "original", 1),
                ("US", "en", film["title"], "imdbDisplay", 0),
                ("DE", "de", film["title"] + " (DE)", "imdbDisplay", 0),
                ("XWW", "en", film["title"], "working", 0),
            ]
            if tconst in classics:
                ru, es = [("RU", "ru", classics[tconst][0])], [("ES", "es", classics[tconst][1])]
            names += [(region, lang, title, "imdbDisplay", 0) for region, lang, title in ru + es]
            for ordering, (region, language, title, types, original) in enumerate(names, 1):
                akas.write(_tsv([tconst, ordering, title, region, language, types, NULL, original]))
    return folder


# ---------------------------------------------------------------------- real size

# Title types in the real title.basics (2025): three quarters episodes, then shorts, films.
TYPE_SHARES = [
    ("tvEpisode", 0.738), ("short", 0.088), ("movie", 0.060), ("video", 0.024),
    ("tvSeries", 0.023), ("tvMovie", 0.013), ("tvMiniSeries", 0.006), ("tvSpecial", 0.005),
    ("videoGame", 0.004), ("tvShort", 0.001),
]  # fmt: skip
IMDB_GENRES = [
    "Action", "Adventure", "Animation", "Biography", "Comedy", "Crime", "Documentary", "Drama",
    "Family", "Fantasy", "History", "Horror", "Music", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Sport", "Thriller", "War", "Western",
]  # fmt: skip
WORDS = str.split(
    "the night river last house of a in love dark city war girl man blue king lost road "
    "secret day time dead star world home heart winter summer fire long black red white "
    "silent little great story return journey memory shadow light sea garden stranger "
    "dream island hunter mother father son daughter ghost stone golden iron glass wolf"
)
CYRILLIC = str.split("ночь река дом город война девушка король дорога тайна звезда мир сердце")
SPANISH = str.split("la noche el río casa ciudad guerra chica rey camino secreto estrella")
REGIONS = str.split("US GB DE FR IT JP BR IN RU ES MX AR PL TR KR CA AU NL SE GR PT HU FI")
# Rated titles: share of each type with a ratings row, and the log-normal votes' median.
RATED = {"movie": (0.45, 70), "tvMovie": (0.40, 30), "tvSeries": (0.35, 60)}


def write_synthetic(folder: Path, titles: int = 12_000_000, seed: int = 0) -> Path:
    """The four files at the real size in `folder` (minutes: run once, reuse). The bundled
    films keep their real ids, titles and many votes, as in the real files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    bundled = {int(f["tconst"][2:]): f for f in _movielens_rows()}
    cumulative, total = [], 0.0
    for kind, share in TYPE_SHARES:
        total += share
        cumulative.append((total, kind))
    with (
        _gzip_writer(folder / BASICS, 1) as basics,
        _gzip_writer(folder / RATINGS, 1) as ratings,
        _gzip_writer(folder / AKAS, 1) as akas,
        _gzip_writer(folder / CREW, 1) as crew,
    ):
        for out, name in ((basics, BASICS), (ratings, RATINGS), (akas, AKAS), (crew, CREW)):
            out.write("\t".join(HEADERS[name]) + "\n")
        buffers: dict[str, list[str]] = {BASICS: [], RATINGS: [], AKAS: [], CREW: []}
        outs = {BASICS: basics, RATINGS: ratings, AKAS: akas, CREW: crew}
        for number in range(1, titles + 1):
            tconst = f"tt{number:07d}"
            film = bundled.get(number)
            draw = rng.random() * total
            kind = "movie" if film else next(k for edge, k in cumulative if draw <= edge)
            if film:
                title, year, votes = film["title"], film["year"], film["votes"]
                genres = film["genres"]
            else:
                title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))).title()
                year = 1900 + int(125 * rng.random() ** 0.5)
                genres = ",".join(sorted(set(rng.choices(IMDB_GENRES, k=rng.randint(1, 3)))))
                share, median = RATED.get(kind, (0.10, 15))
                votes = None
                if rng.random() < share:
                    votes = max(5, int(median * math.exp(2.3 * rng.gauss(0, 1))))
            adult = int(kind == "movie" and film is None and rng.random() < 0.01)
            runtime = rng.randint(70, 160) if kind in ("movie", "tvMovie") else rng.randint(5, 60)
            buffers[BASICS].append(
                f"{tconst}\t{kind}\t{title}\t{title}\t{adult}\t{year}\t\\N\t{runtime}\t{genres}\n"
            )
            if votes is not None:
                buffers[RATINGS].append(f"{tconst}\t{5 + 4 * rng.random():.1f}\t{votes}\n")
            director = f"nm{rng.randint(1, 9_999_999):07d}"
            buffers[CREW].append(f"{tconst}\t{director}\t{director}\n")
            # ~4.4 alternative titles per title (title.akas has ~53 M rows for ~12 M titles),
            # many more for well-known films.
            n_akas = rng.randint(0, 8) if votes is None else min(60, 3 + int(votes**0.3))
            for ordering in range(1, n_akas + 1):
                region = rng.choice(REGIONS)
                if region == "RU":
                    name = " ".join(rng.choice(CYRILLIC) for _ in range(2))
                elif region in ("ES", "MX", "AR"):
                    name = " ".join(rng.choice(SPANISH) for _ in range(3))
                else:
                    name = title
                buffers[AKAS].append(
                    f"{tconst}\t{ordering}\t{name}\t{region}\t\\N\timdbDisplay\t\\N\t0\n"
                )
            if number % 100_000 == 0:
                for name, lines in buffers.items():
                    outs[name].write("".join(lines))
                    lines.clear()
        for name, lines in buffers.items():
            outs[name].write("".join(lines))
    return folder


# ---------------------------------------------------------------------- exports

# A realistic 2026 IMDb ratings export: old films (in the bundled catalog) and recent ones.
EXPORT_OLD = [
    "tt0120338", "tt0133093", "tt0109830", "tt0068646", "tt0110912", "tt0137523", "tt0111161",
    "tt0245429", "tt0088763", "tt1375666", "tt0816692", "tt0102926", "tt0114369", "tt0468569",
    "tt0167260", "tt2380307", "tt0172495",
]  # fmt: skip
EXPORT_NEW = [
    "tt15398776", "tt6751668", "tt1160419", "tt15239678", "tt1517268", "tt6710474",
    "tt1745960", "tt7286456", "tt1877830", "tt10872600", "tt9362722", "tt8579674",
    "tt8946378", "tt5537002", "tt13238346", "tt17009710", "tt14230458", "tt28607951",
    "tt17526714", "tt20215234", "tt31193180", "tt30144839", "tt5950044",
]  # fmt: skip


def _catalog_films() -> dict[str, dict]:
    films = {f["tconst"]: f for f in _movielens_rows()}
    films.update({f["tconst"]: f for f in recent_films()})
    return films


def imdb_export() -> bytes:
    """A 43-row IMDb ratings export (IMDB_HEADER): 17 old films, 23 from 2019-2026, a festival
    film with 120 votes (in the files, under the keep rule), and two series."""
    films = _catalog_films()
    rng = random.Random(2026)
    rows = []
    few = next(t for t in OTHER_TITLES if t[0] == FEW_VOTES)
    picks = [films[t] for t in EXPORT_OLD + EXPORT_NEW]
    picks.append({"tconst": few[0], "title": few[2], "original": few[3], "year": few[5]})
    for day, film in enumerate(picks, start=1):
        rows.append(_imdb_row(film, rng.randint(4, 10), day, "Movie"))
    for tconst, title, year, kind in NOT_MOVIES[:2]:
        rows.append(_imdb_row({"tconst": tconst, "title": title, "year": year}, 9, 28, kind))
    return to_csv(IMDB_HEADER, rows)


def _imdb_row(film: dict, score: int, day: int, kind: str) -> list[str]:
    return [
        film["tconst"], str(score), f"2026-{1 + day % 11:02d}-{1 + day % 27:02d}", film["title"],
        film.get("original", film["title"]), f"https://www.imdb.com/title/{film['tconst']}/",
        kind, "7.8", str(film.get("runtime") or ""), str(film["year"]), "Drama", "250000",
        f"{film['year']}-05-01", "Someone",
    ]  # fmt: skip


# Letterboxd names films in English with the release year it lists (as the site writes them).
LETTERBOXD = [
    ("Titanic", 1997), ("The Matrix", 1999), ("Forrest Gump", 1994), ("The Godfather", 1972),
    ("Pulp Fiction", 1994), ("Fight Club", 1999), ("Spirited Away", 2001),
    ("Back to the Future", 1985), ("Inception", 2010), ("Interstellar", 2014),
    ("Oppenheimer", 2023), ("Parasite", 2019), ("Dune", 2021), ("Dune: Part Two", 2024),
    ("Barbie", 2023), ("Everything Everywhere All at Once", 2022), ("Top Gun: Maverick", 2022),
    ("Joker", 2019), ("Past Lives", 2023), ("Anatomy of a Fall", 2023), ("Poor Things", 2023),
    ("Anora", 2024), ("The Substance", 2024), ("Conclave", 2024), ("Sinners", 2025),
    ("One Battle After Another", 2025), ("Thunderbolts*", 2025), ("Knives Out", 2019),
    ("Portrait of a Lady on Fire", 2019), ("The Zone of Interest", 2023),
]  # fmt: skip


def letterboxd_export() -> bytes:
    """A Letterboxd export zip: ratings.csv with the 30 films above, plus its other files."""
    rng = random.Random(30)
    ratings = [
        [
            f"2026-03-{1 + i % 28:02d}",
            name,
            str(year),
            "https://boxd.it/x",
            f"{rng.randint(4, 10) / 2:g}",
        ]
        for i, (name, year) in enumerate(LETTERBOXD)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ratings.csv", to_csv(LETTERBOXD_RATINGS_HEADER, ratings))
        archive.writestr("watched.csv", to_csv(LETTERBOXD_HEADER, []))
        archive.writestr("watchlist.csv", to_csv(LETTERBOXD_HEADER, []))
        archive.writestr("profile.csv", "Date Joined,Username\r\n2020-01-01,someone\r\n")
    return buffer.getvalue()


def gzip_text(path: Path, text: str) -> None:
    """Write `text` as the gzip file `path` (for tests that craft one file by hand)."""
    with gzip.open(path, "wt", encoding="utf-8", newline="") as out:
        out.write(text)
