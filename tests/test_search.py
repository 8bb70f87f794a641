"""Title search over the real catalog: what people type, and when the bot must ask."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from storage.errors import InvalidArgument
from storage.search import TitleIndex, clear_winner, search_titles


@pytest.fixture
def index(catalog_db: Database) -> TitleIndex:
    return TitleIndex.from_db(catalog_db)


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("Ted", "Ted (2012)"),
        ("ted 2", "Ted 2 (2015)"),
        ("the matrix", "The Matrix (1999)"),
        ("Matrix, The", "The Matrix (1999)"),
        ("MATRIX!!", "The Matrix (1999)"),
        ("Amélie", "Amelie (2001)"),
        ("leon", "Léon: The Professional (1994)"),
        ("wall e", "WALL·E (2008)"),
        ("Frozzen", "Frozen (2013)"),
        ("Godfathr", "The Godfather (1972)"),
        ("Cinderella 2015", "Cinderella (2015)"),
        ("cinderella (1997)", "Cinderella (1997)"),
        ("Blade Runner 2049", "Blade Runner 2049 (2017)"),
        ("toy story", "Toy Story (1995)"),
        ("postino", "The Postman (1994)"),
    ],
)
def test_what_people_type_finds_the_movie_they_mean(index: TitleIndex, query, label) -> None:
    matches = index.search(query)
    assert matches[0].label == label
    assert clear_winner(matches) is matches[0]


def test_exact_titles_rank_above_sequels_then_popularity(index: TitleIndex) -> None:
    labels = [m.label for m in index.search("toy story", limit=4)]
    assert labels[0] == "Toy Story (1995)"
    assert set(labels[1:3]) == {"Toy Story 2 (1999)", "Toy Story 3 (2010)"}
    # Toy Story 2 has more ratings than Toy Story 3: equal match, popularity decides.
    assert labels[1] == "Toy Story 2 (1999)"


def test_close_candidates_of_similar_popularity_are_ambiguous(index: TitleIndex) -> None:
    matches = index.search("harold kumar")
    assert clear_winner(matches) is None
    assert {m.label for m in matches[:3]} >= {
        "Harold and Kumar Go to White Castle (2004)",
        "Harold & Kumar Escape from Guantanamo Bay (2008)",
    }


def test_a_far_more_popular_namesake_wins_without_asking(index: TitleIndex) -> None:
    matches = index.search("Frozen")
    assert [m.label for m in matches[:2]] == ["Frozen (2013)", "Frozen (2010)"]
    assert matches[0].score == matches[1].score
    assert clear_winner(matches).label == "Frozen (2013)"


def test_confidence_is_score_out_of_one(index: TitleIndex) -> None:
    exact, typo = index.search("Frozen")[0], index.search("Frozzen")[0]
    assert exact.confidence == 1.0
    assert 0.6 < typo.confidence < 1.0


def test_nonsense_finds_nothing(index: TitleIndex) -> None:
    assert index.search("xyzzy qwerty plugh") == []
    assert index.search("🎬🍿") == []
    assert clear_winner([]) is None


@pytest.mark.parametrize("bad", ["", "   ", "x" * 201, None, 42])
def test_bad_queries_raise_invalid_argument(index: TitleIndex, bad) -> None:
    with pytest.raises(InvalidArgument):
        index.search(bad)


def test_search_titles_reads_the_database_directly(tutorial_db: Database) -> None:
    assert search_titles(tutorial_db, "tangled")[0].label == "Tangled (2010)"
    assert search_titles(tutorial_db, "harold kumar christmas")[0].label == (
        "A Very Harold and Kumar Christmas (2011)"
    )
