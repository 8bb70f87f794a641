"""The acceptance rule for typed titles (storage.search.resolve), on the labelled set the rule
was chosen on (tests/data/title_queries.csv, devtools/title_calibration.py)."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from devtools.title_calibration import figures, load_labelled, score
from storage.search import RULE, Kind, TitleIndex, resolve


@pytest.fixture(scope="module")
def index(_catalog_template) -> TitleIndex:
    from storage.db import connect

    database = connect(_catalog_template)
    try:
        return TitleIndex.from_db(database)
    finally:
        database.close()


def test_labelled_set_meets_the_targets(index: TitleIndex) -> None:
    labelled = load_labelled()
    assert sum(item.movie_id is None for item in labelled) >= 80
    assert sum(item.movie_id is not None for item in labelled) >= 500
    result = figures(score(index, labelled), RULE)
    assert result.junk_exact == 0  # no junk is ever taken without asking
    assert result.exact_wrong == 0
    assert result.resolved_share >= 0.95  # right directly, or the first choice offered


def test_figures_come_from_resolve_itself(index: TitleIndex) -> None:
    """The calibration judges RULE.decide; resolve must give the same verdicts."""
    for item in load_labelled()[::7]:
        resolution = resolve(index, item.query)
        matches = index.search(item.query)
        expected = RULE.decide(matches, index.fit(item.query, matches[0]) if matches else None)
        assert resolution.kind is expected, item


@pytest.mark.parametrize(
    "junk",
    ["asdfgh", "hello world", "idk", "test", "DROP TABLE", "whats up", "' OR 1=1", "123456"],
)
def test_junk_from_the_issue_is_never_taken(index: TitleIndex, junk: str) -> None:
    assert resolve(index, junk).kind is not Kind.EXACT
    assert resolve(index, junk).movie is None


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("the matrix", "The Matrix (1999)"),
        ("shwashank redemption", "The Shawshank Redemption (1994)"),
        ("cinderella 2015", "Cinderella (2015)"),
        ("se7en", "Seven (1995)"),
        ("Wo hu cang long", "Crouching Tiger, Hidden Dragon (2000)"),
    ],
)
def test_strong_clear_matches_are_taken(index: TitleIndex, query: str, label: str) -> None:
    resolution = resolve(index, query)
    assert resolution.kind is Kind.EXACT
    assert resolution.movie.label == label
    assert resolution.choices == (resolution.movie,)


def test_a_partial_title_is_offered_not_taken(index: TitleIndex) -> None:
    resolution = resolve(index, "shawshank")
    assert resolution.kind is Kind.ASK and resolution.movie is None
    assert resolution.choices[0].label == "The Shawshank Redemption (1994)"


def test_a_word_that_names_an_obscure_film_is_offered_not_taken(index: TitleIndex) -> None:
    resolution = resolve(index, "whatever")
    assert resolution.choices[0].label == "Whatever (1998)"
    assert resolution.kind is Kind.ASK


def test_close_namesakes_are_offered(index: TitleIndex) -> None:
    resolution = resolve(index, "harold kumar")
    assert resolution.kind is Kind.ASK
    assert len(resolution.choices) >= 2


@pytest.mark.parametrize("text", ["", "   ", "x" * 201, "asdf", "!!!"])
def test_nothing_to_offer_is_none_and_never_raises(index: TitleIndex, text: str) -> None:
    resolution = resolve(index, text)
    assert resolution.kind is Kind.NONE and resolution.choices == ()


def test_resolve_takes_a_database_too(tutorial_db: Database) -> None:
    assert resolve(tutorial_db, "toy story 3").movie.label == "Toy Story 3 (2010)"
