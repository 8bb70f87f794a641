"""Title search at the size of an IMDb catalog: candidates instead of a full scan, popularity
from IMDb's votes, films that outshine an obscure exact title, Cyrillic names."""

from __future__ import annotations

import numpy as np
import pytest
from rapidfuzz import fuzz, process
from sqlite_utils import Database

from devtools.synthetic_titles import FIRST_NEW_ID, synthetic_rows
from devtools.title_calibration import load_labelled
from storage.movies import title_rows
from storage.search import (
    MIN_SCORE,
    NEAR_EXACT,
    RULE,
    TOKEN_SET_WEIGHT,
    Kind,
    TitleIndex,
    clear_winner,
    popularity,
    resolve,
)
from storage.titles import normalize, split_query_year


@pytest.fixture(scope="module")
def bundled_rows(_catalog_template) -> list[tuple]:
    from storage.db import connect

    database = connect(_catalog_template)
    try:
        return title_rows(database)
    finally:
        database.close()


class FullScan:
    """What search did before it picked candidates: every name scored (ratio, token_sort_ratio,
    token_set_ratio x 0.9 on names sharing a word; a typed year first among that year's)."""

    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows
        pairs = [(i, normalize(n)) for i, r in enumerate(rows) for n in [r[1], *r[3].splitlines()]]
        self.owners = np.asarray([i for i, n in pairs if n])
        self.names = [n for _, n in pairs if n]
        self.years = np.asarray([rows[i][2] or 0 for i in self.owners])
        self.with_word: dict[str, set[int]] = {}
        for j, name in enumerate(self.names):
            for word in name.split():
                self.with_word.setdefault(word, set()).add(j)

    def scores(self, text: str, year: int | None) -> np.ndarray:
        per_movie = np.zeros(len(self.rows), dtype=np.float32)
        key = normalize(text)
        pool = np.flatnonzero(self.years == year) if year is not None else None
        pool = np.arange(len(self.names)) if pool is None else pool
        if not key or not pool.size:
            return per_movie
        choices = [self.names[j] for j in pool]
        best = np.maximum(
            process.cdist([key], choices, scorer=fuzz.ratio)[0],
            process.cdist([key], choices, scorer=fuzz.token_sort_ratio)[0],
        )
        sharing = set().union(*(self.with_word.get(w, set()) for w in key.split()))
        mask = np.isin(pool, list(sharing))
        if mask.any():
            subset = [choices[k] for k in np.flatnonzero(mask)]
            token_set = process.cdist([key], subset, scorer=fuzz.token_set_ratio)[0]
            best[mask] = np.maximum(best[mask], token_set * TOKEN_SET_WEIGHT)
        np.maximum.at(per_movie, self.owners[pool], best)
        return per_movie

    def search(self, query: str, limit: int = 5) -> list[tuple[int, float]]:
        """(movie id, score) of the best `limit`, ties by ratings here."""
        title, year = split_query_year(query)
        found = self.scores(title, year) if year is not None else None
        if found is None or found.max() < NEAR_EXACT:
            whole = self.scores(query, None)
            found = whole if found is None else np.maximum(found, whole)
        n = np.asarray([r[4] for r in self.rows])
        candidates = np.flatnonzero(found >= MIN_SCORE)
        order = candidates[np.lexsort((-n[candidates], -found[candidates]))][:limit]
        return [(self.rows[i][0], round(float(found[i]), 1)) for i in order]


def test_candidates_find_what_scoring_every_name_finds(bundled_rows) -> None:
    """On the bundled catalog, for every labelled text, the best five are the full scan's:
    all of them for 99 % of the texts, and every one that could be offered first (>= 75)."""
    index, full_scan = TitleIndex(bundled_rows), FullScan(bundled_rows)
    labelled = load_labelled()
    same = 0
    for item in labelled:
        expected = full_scan.search(item.query)
        found = {m.movie_id: m.score for m in index.search(item.query, limit=50)}
        got = [(movie, found.get(movie)) for movie, _ in expected]
        same += got == expected
        assert [g for g, e in zip(got, expected, strict=True) if e[1] >= RULE.ask] == [
            e for e in expected if e[1] >= RULE.ask
        ], item.query
        assert sorted(found.values(), reverse=True)[:1] == [s for _, s in expected][:1]
    assert same >= 0.99 * len(labelled)


def test_an_obscure_exact_title_is_offered_after_the_famous_films_containing_it(
    bundled_rows,
) -> None:
    # Bakshi's 1978 The Lord of the Rings (15 ratings) was taken without asking.
    resolution = resolve(TitleIndex(bundled_rows), "Lord of the Rings")
    assert resolution.kind is Kind.ASK
    labels = [m.label for m in resolution.choices]
    assert labels[0] == "The Lord of the Rings: The Fellowship of the Ring (2001)"
    assert "The Lord of the Rings (1978)" in labels
    assert clear_winner(list(resolution.choices)) is None


def test_a_typed_year_still_takes_the_obscure_film(bundled_rows) -> None:
    resolution = resolve(TitleIndex(bundled_rows), "lord of the rings 1978")
    assert resolution.movie.label == "The Lord of the Rings (1978)"


NEW_FILMS = [  # (id, title, year, aliases, ratings here, IMDb votes)
    (FIRST_NEW_ID + 1, "Parasite", 2019, "Gisaengchung\nПаразиты\nParásitos", 0, 950_000),
    (FIRST_NEW_ID + 2, "Dune", 2021, "Dune: Part One\nДюна", 0, 900_000),
    (FIRST_NEW_ID + 3, "Dune: Part Two", 2024, "Дюна: Часть вторая", 0, 620_000),
    (FIRST_NEW_ID + 4, "Oppenheimer", 2023, "Оппенгеймер", 0, 950_000),
    (FIRST_NEW_ID + 5, "Брат", 1997, "Brother", 0, 60_000),
    (FIRST_NEW_ID + 6, "Ёлки", 2010, "Yolki", 0, 60_000),
]
REAL_VOTES = {2256: 2_000, 2021: 200_000, 7842: 30_000, 1721: 1_300_000, 3404: 6_000}


@pytest.fixture(scope="module")
def imdb_index(bundled_rows) -> TitleIndex:
    """The bundled catalog after an IMDb update: votes for its films, a few new films."""
    rows = synthetic_rows(bundled_rows, extra_films=0)
    rows = [(*r[:5], REAL_VOTES.get(r[0], r[5])) for r in rows]
    rows = [(*r[:3], "Титаник" if r[0] == 1721 else r[3], *r[4:]) for r in rows]
    return TitleIndex(rows + NEW_FILMS)


def test_parasite_is_the_famous_one_with_imdb_votes(imdb_index: TitleIndex) -> None:
    resolution = resolve(imdb_index, "Parasite")
    assert resolution.kind is Kind.EXACT
    assert resolution.movie.label == "Parasite (2019)"
    assert resolution.movie.n_ratings == 0


def test_dune_offers_2021_then_1984(imdb_index: TitleIndex) -> None:
    resolution = resolve(imdb_index, "Dune")
    assert resolution.kind is Kind.ASK
    assert [m.label for m in resolution.choices[:2]] == ["Dune (2021)", "Dune (1984)"]


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("Титаник", "Titanic (1997)"),
        ("титаник 1997", "Titanic (1997)"),
        ("оппенгеймер", "Oppenheimer (2023)"),
        ("Oppenheimer", "Oppenheimer (2023)"),
        ("Оппенгеймер 2023", "Oppenheimer (2023)"),
        ("елки", "Ёлки (2010)"),
        ("паразиты", "Parasite (2019)"),
        ("parasitos", "Parasite (2019)"),
    ],
)
def test_cyrillic_and_accented_names_are_found(imdb_index: TitleIndex, query, label) -> None:
    assert imdb_index.search(query)[0].label == label


def test_one_word_names_a_new_film_only_when_it_is_famous(imdb_index: TitleIndex) -> None:
    assert resolve(imdb_index, "оппенгеймер").movie.label == "Oppenheimer (2023)"  # 950k votes
    elki = resolve(imdb_index, "елки")  # 60k votes, no rating here: likelier a word
    assert elki.kind is Kind.ASK and elki.choices[0].label == "Ёлки (2010)"


def test_a_latin_typo_does_not_hit_a_cyrillic_name(imdb_index: TitleIndex) -> None:
    # "Брат" is also called "Brother": a Latin text can only meet its Latin name.
    assert "Брат (1997)" not in [m.label for m in imdb_index.search("brat")]
    assert imdb_index.search("brat", limit=50) == [
        m for m in imdb_index.search("brat", limit=50) if m.label != "Брат (1997)"
    ]
    assert imdb_index.search("brothr")[0].label in {"Брат (1997)", "Brother (2000)"}


def test_popularity_is_in_ratings_here_with_votes_at_the_catalogs_own_rate() -> None:
    n_ratings = np.asarray([10] * 20 + [0, 3])
    votes = np.asarray([50_000] * 20 + [1_000_000, None], dtype=object)
    # 20 films with both at 5,000 votes a rating: a film nobody rated here with a million
    # votes counts as 200 ratings; one without votes keeps its own 3.
    assert popularity(n_ratings, votes).tolist() == [10.0] * 20 + [200.0, 3.0]
    assert popularity(np.asarray([4, 0]), np.asarray([None, None], dtype=object)).tolist() == [
        4.0,
        0.0,
    ]


def test_the_index_reads_imdb_votes_from_the_database(catalog_db: Database) -> None:
    catalog_db["movies"].insert(
        {
            "id": FIRST_NEW_ID,
            "title": "Parasite",
            "year": 2019,
            "source_title": "Parasite",
            "imdb_votes": 950_000,
        }  # fmt: skip
    )
    for movie_id, votes in REAL_VOTES.items():
        catalog_db["movies"].update(movie_id, {"imdb_votes": votes})
    assert TitleIndex.from_db(catalog_db).search("parasite")[0].label == "Parasite (2019)"


def test_a_year_limits_the_candidates_to_that_year(imdb_index: TitleIndex) -> None:
    assert [m.label for m in imdb_index.search("dune 1984")][:1] == ["Dune (1984)"]
    assert [m.label for m in imdb_index.search("брат 1997")][:1] == ["Брат (1997)"]


def test_match_many_takes_exact_names_and_years_and_resolves_the_rest(bundled_rows) -> None:
    index = TitleIndex(bundled_rows)
    pairs = [("Toy Story", 1995), ("toy stroy", 1995), ("asdfgh", None), ("Cinderella", 2015),
             ("Frozen", None), ("Dune", 2000)]  # fmt: skip
    found = index.match_many(pairs)
    assert found[0].kind is Kind.EXACT and found[0].movie.label == "Toy Story (1995)"
    assert found[3].movie.label == "Cinderella (2015)" and found[5].movie.label == "Dune (2000)"
    for i in (1, 2, 4):
        title, year = pairs[i]
        assert found[i] == resolve(index, f"{title} {year}" if year else title)
    assert found[2].kind is Kind.NONE
