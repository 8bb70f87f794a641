"""Issue 23's targets, end to end: the bundled catalog updated from files in IMDb's format
(devtools/imdb_files.write_realistic, through the real update code), a model fitted on it with
the films' content (moviebot.training.train), and the bot answering through the command layer.

    /rate Oppenheimer 9     saves Oppenheimer (2023)
    /rate Parasite 10       saves, or first offers, Parasite (2019)
    /rate Титаник 7         finds Titanic (1997)
    /recommend 5 2025       answers with 2025 films
    a 2026 IMDb export and a Letterboxd export: >= 95 % of their films in the files matched

One catalog update and one fit for the module (~15 s of CPU)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.commands.conversation import Conversation
from bot.files import history_import
from bot.service import MovieService
from bot.telegram.catalog_job import title_index
from bot.ui.html import to_plain
from devtools.imdb_files import imdb_export, letterboxd_export, write_realistic
from moviebot.catalog_update import update_catalog
from moviebot.training import train
from storage import ratings, users
from storage.db import connect
from storage.imdb_catalog import ID_OFFSET
from storage.movies import get_movie
from tests.helpers import ANN, PRIVATE, Talk

# Figures on a fitted model and labelled targets: left out of the fast run like the others.
pytestmark = pytest.mark.quality

OPPENHEIMER = ID_OFFSET + 15398776
PARASITE = ID_OFFSET + 6751668
TITANIC = 1721  # MovieLens' id: the bundled film keeps it


@pytest.fixture(scope="module")
def updated(tmp_path_factory: pytest.TempPathFactory, _catalog_template: Path):
    """The service on the bundled catalog updated from the IMDb-format files, with a model
    fitted on it (content included)."""
    folder = tmp_path_factory.mktemp("targets")
    db_path = folder / "catalog.db"
    shutil.copyfile(_catalog_template, db_path)
    outcome = update_catalog(db_path, folder=write_realistic(folder / "imdb"))
    assert outcome.status == "ok"
    model = train(db_path, folder / "catalog.model.npz").model
    db = connect(db_path)
    service = MovieService(db, model)
    service.use_titles(title_index(db_path))
    yield service
    db.close()


@pytest.fixture
def ann(updated: MovieService) -> Talk:
    """A new person each test: Ann's ratings and state go first."""
    users.forget_user(updated.db, ANN.user_id)
    return Talk(Conversation(updated), ANN, PRIVATE)


def saved(service: MovieService) -> dict[int, int]:
    return ratings.user_ratings(service.db, ANN.user_id)


def first_offered(outcome) -> str:
    """The label of the first movie button of a "Which one / Did you mean" question."""
    return outcome.replies[0].buttons[0][0].label


def test_oppenheimer_is_saved(ann: Talk, updated: MovieService) -> None:
    assert ann.text("/rate Oppenheimer 9") == "Oppenheimer (2023): 9/10 ✓"
    assert saved(updated) == {OPPENHEIMER: 9}


def test_parasite_is_saved_or_offered_first(ann: Talk, updated: MovieService) -> None:
    outcome = ann.say("/rate Parasite 10")
    if saved(updated):
        assert saved(updated) == {PARASITE: 10}
    else:
        assert first_offered(outcome) == "Parasite (2019)"


def test_titanic_is_found_by_its_russian_title(ann: Talk, updated: MovieService) -> None:
    outcome = ann.say("/rate Титаник 7")
    if saved(updated):
        assert saved(updated) == {TITANIC: 7}
    else:
        assert first_offered(outcome) == "Titanic (1997)"
    assert get_movie(updated.db, TITANIC).label == "Titanic (1997)"


def test_recommend_2025_answers_with_2025_films(ann: Talk, updated: MovieService) -> None:
    for typed in ("/rate Oppenheimer 9", "/rate Interstellar 9", "/rate The Matrix 8"):
        ann.say(typed)
    assert len(saved(updated)) == 3
    outcome = ann.say("/recommend 5 2025")
    picks = updated.recommend(ANN.user_id, 5, years=(2025, 2025))
    assert len(picks) == 5 and {p.movie.year for p in picks} == {2025}
    text = "\n".join(to_plain(reply.text) for reply in outcome.replies)
    for pick in picks:
        assert pick.movie.label in text
    years = {int(y) for y in re.findall(r"\((\d{4})\)", text)}
    assert years <= {2025, 2023, 2014, 1999}  # the picks, and the films they come from


def export_match(service: MovieService, data: bytes, name: str) -> tuple[float, list[str]]:
    """The share of an export's films (series left out) the bot's matcher finds, read-only
    (no plan is applied), and the ones it left out."""
    rows = history_import.read_file(data, name)
    plan = history_import.plan_import(
        rows, service.history_matcher, history_import.History({}, set(), set())
    )
    films = [r for r in rows if not (r.title_type or "").startswith("TV")]
    return len(plan.new) / len(films), plan.not_in_catalog + [r for r, _ in plan.weak]


def test_a_2026_imdb_export_matches_95_percent_of_its_films(updated: MovieService) -> None:
    share, left_out = export_match(updated, imdb_export(), "ratings.csv")
    assert share >= 0.95, left_out
    # The one left out is under the keep rule's 500 votes: not in the catalog, rightly.
    assert left_out == ["A Festival Film Few Saw (2024)"]


def test_a_2026_letterboxd_export_matches_95_percent_of_its_films(updated: MovieService) -> None:
    share, left_out = export_match(updated, letterboxd_export(), "letterboxd.zip")
    assert share >= 0.95, left_out


def test_about_says_what_the_updated_catalog_covers(ann: Talk, updated: MovieService) -> None:
    day = updated.coverage.updated
    assert f"My catalog has 9962 films, up to 2026; updated {day}." in ann.text("/about")
    assert ann.text("/help").endswith(f"My catalog has 9962 films, up to 2026; updated {day}.")


def test_onboarding_asks_about_recent_well_known_films(ann: Talk, updated: MovieService) -> None:
    """Every third card is one of the most-voted films of the last 10 years."""
    classics, recent = updated.onboarding_pools()
    assert len(recent) == 50
    assert {get_movie(updated.db, m).year for m in recent} <= set(range(2017, 2027))
    skipped: list[int] = []
    for _ in range(6):
        skipped.append(updated.next_onboarding_movie(ANN.user_id, skipped))
    assert [m in recent for m in skipped] == [False, False, True, False, False, True]
