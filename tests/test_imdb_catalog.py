"""The catalog from IMDb's datasets: what is kept, how it merges with MovieLens, names for
search, and what an import of a 2026 export finds afterwards (devtools/imdb_files.py's
realistic files, read through storage/imdb_catalog.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.files import history_import
from devtools.imdb_files import (
    FEW_VOTES,
    imdb_export,
    letterboxd_export,
    write_realistic,
)
from storage.db import connect, utc_now
from storage.imdb_catalog import (
    ID_OFFSET,
    apply_catalog,
    catalog_imdb_ids,
    imdb_movie_id,
    movielens_genres,
    read_catalog,
)
from storage.imdb_files import MAX_ALIASES
from storage.movielens import import_movielens
from storage.movies import get_movie
from storage.search import Kind, TitleIndex, resolve

TITANIC, CITY_OF_LOST_CHILDREN = 1721, 29
OPPENHEIMER = ID_OFFSET + 15398776


@pytest.fixture(scope="session")
def imdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The realistic IMDb-format files, written once."""
    return write_realistic(tmp_path_factory.mktemp("imdb"))


def update(db: Database, folder: Path) -> None:
    films = read_catalog(folder, catalog_imdb_ids(db))
    apply_catalog(db, films, source=str(folder), started_at=utc_now())


@pytest.fixture
def updated_db(catalog_db: Database, imdb_dir: Path) -> Database:
    """The bundled catalog after an update from the realistic files."""
    update(catalog_db, imdb_dir)
    return catalog_db


def row(db: Database, movie_id: int) -> dict:
    cursor = db.execute("SELECT * FROM movies WHERE id = ?", [movie_id])
    names = [d[0] for d in cursor.description]
    values = cursor.fetchone()
    return dict(zip(names, values, strict=True)) if values else {}


def test_a_movielens_film_keeps_its_id_title_genres_and_ratings_and_gains_imdb_facts(
    catalog_db: Database, imdb_dir: Path
) -> None:
    before = row(catalog_db, TITANIC)
    ratings = catalog_db.execute("SELECT count(*) FROM ratings WHERE movie_id = ?", [TITANIC])
    n_ratings = ratings.fetchone()[0]
    update(catalog_db, imdb_dir)
    after = row(catalog_db, TITANIC)
    kept = ("id", "title", "year", "genres", "imdb_id", "tmdb_id", "source_title", "added_at")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert before["imdb_votes"] is None and after["imdb_votes"] > 100_000
    assert after["imdb_rating"] is not None and after["runtime"] is not None
    assert after["directors"].startswith("nm")
    assert "Титаник" in after["aliases"].splitlines()
    count = catalog_db.execute("SELECT count(*) FROM ratings WHERE movie_id = ?", [TITANIC])
    assert count.fetchone()[0] == n_ratings


def test_a_movielens_films_own_alternative_titles_stay_first(updated_db: Database) -> None:
    aliases = row(updated_db, CITY_OF_LOST_CHILDREN)["aliases"].splitlines()
    assert aliases[0] == "La Cité des enfants perdus"


def test_a_new_film_gets_the_id_of_its_imdb_number_and_movielens_genres(
    updated_db: Database,
) -> None:
    assert imdb_movie_id("tt15398776") == 1_015_398_776
    film = row(updated_db, OPPENHEIMER)
    assert (film["title"], film["year"], film["imdb_id"]) == ("Oppenheimer", 2023, "tt15398776")
    assert film["genres"] == "Drama"  # Biography, Drama, History
    assert film["added_at"] is not None and film["runtime"] == 180
    assert film["imdb_votes"] > 0
    assert get_movie(updated_db, OPPENHEIMER).label == "Oppenheimer (2023)"
    # Every film new to the catalog has an id of that block, and no MovieLens id moved.
    new_ids = [r[0] for r in updated_db.execute("SELECT id FROM movies WHERE added_at IS NOT NULL")]
    assert len(new_ids) > 200 and min(new_ids) > ID_OFFSET


def test_the_keep_rule_leaves_out_series_episodes_shorts_adult_undated_and_few_votes(
    updated_db: Database,
) -> None:
    imdb_ids = {r[0] for r in updated_db.execute("SELECT imdb_id FROM movies")}
    for left_out in ("tt0903747", "tt0959621", "tt0000001", "tt9000001", "tt9000005", FEW_VOTES):
        assert left_out not in imdb_ids
    assert "tt9000003" in imdb_ids  # a film with 4,200 votes, over the threshold


def test_original_russian_and_spanish_titles_become_names(updated_db: Database) -> None:
    parasite = row(updated_db, ID_OFFSET + 6751668)
    aliases = parasite["aliases"].splitlines()
    assert aliases[0] == "Gisaengchung"  # the original title first
    assert {"Паразиты", "Parásitos"} <= set(aliases)
    assert parasite["original_title"] == "Gisaengchung"
    everything = row(updated_db, ID_OFFSET + 6710474)["aliases"].splitlines()
    assert "Todo en todas partes al mismo tiempo" in everything  # Mexico's title too
    for film_aliases in updated_db.execute("SELECT title, aliases FROM movies"):
        names = film_aliases[1].splitlines()
        assert film_aliases[0] not in names and len(names) == len(set(names))
    longest = max(
        len(a.splitlines())
        for (a,) in updated_db.execute("SELECT aliases FROM movies WHERE added_at IS NOT NULL")
    )
    assert longest <= MAX_ALIASES
    # German titles are not the bot's languages; working titles are never names.
    assert not any("(DE)" in a for (a,) in updated_db.execute("SELECT aliases FROM movies"))


def test_titles_with_quotes_and_a_tab_are_read_whole(updated_db: Database) -> None:
    assert row(updated_db, ID_OFFSET + 9000003)["title"] == 'The "Quoted" Film'
    tab = row(updated_db, ID_OFFSET + 9000004)
    assert (tab["title"], tab["genres"], tab["runtime"]) == ("Tab Inside", "", None)


def test_imdb_genres_map_onto_movielens_names() -> None:
    assert movielens_genres(["Family", "Music", "Sci-Fi"]) == "Children|Musical|Sci-Fi"
    assert movielens_genres(["Biography", "Sport"]) == "Drama"
    assert movielens_genres(["Biography", "Documentary", "History"]) == "Documentary"
    assert movielens_genres(["Adult", "Short", "Talk-Show", "Reality-TV"]) == ""


def test_updating_again_from_the_same_files_changes_nothing(
    updated_db: Database, imdb_dir: Path
) -> None:
    snapshot = updated_db.execute("SELECT * FROM movies ORDER BY id").fetchall()
    update(updated_db, imdb_dir)
    again = updated_db.execute("SELECT * FROM movies ORDER BY id").fetchall()
    assert again == snapshot


def test_titanic_in_russian_finds_titanic(updated_db: Database) -> None:
    resolution = resolve(TitleIndex.from_db(updated_db), "Титаник")
    assert resolution.movie is not None and resolution.movie.label == "Titanic (1997)"


def test_oppenheimer_is_the_first_film_offered(updated_db: Database) -> None:
    resolution = resolve(TitleIndex.from_db(updated_db), "Oppenheimer")
    assert resolution.kind is not Kind.NONE
    assert resolution.choices[0].label == "Oppenheimer (2023)"


def test_oppenheimer_is_taken_without_asking(updated_db: Database) -> None:
    resolution = resolve(TitleIndex.from_db(updated_db), "Oppenheimer")
    assert resolution.movie is not None and resolution.movie.label == "Oppenheimer (2023)"


def test_a_movielens_import_merges_into_a_film_added_from_imdb(
    updated_db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "ml-new"
    folder.mkdir()
    (folder / "movies.csv").write_text(
        "movieId,title,genres\n270000,Oppenheimer (2023),Drama\n270001,Brand New (2025),Comedy\n"
    )
    (folder / "links.csv").write_text(
        "movieId,imdbId,tmdbId\n270000,15398776,872585\n270001,99999999,\n"
    )
    (folder / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,270000,4.5,1700000000\n1,270001,3.0,1700000001\n"
    )
    movies_before = updated_db.execute("SELECT count(*) FROM movies").fetchone()[0]
    summary = import_movielens(updated_db, folder)
    assert summary.movies_added == 1  # only Brand New: Oppenheimer is there already
    assert updated_db.execute("SELECT count(*) FROM movies").fetchone()[0] == movies_before + 1
    assert not updated_db.execute("SELECT 1 FROM movies WHERE id = 270000").fetchall()
    rated = updated_db.execute("SELECT movie_id, rating FROM ratings WHERE user_id < 0 AND "
                               "movie_id IN (?, 270001)", [OPPENHEIMER]).fetchall()  # fmt: skip
    assert sorted(rated) == [(270001, 6), (OPPENHEIMER, 9)]
    assert row(updated_db, OPPENHEIMER)["tmdb_id"] == 872585
    again = import_movielens(updated_db, folder)
    assert (again.movies_added, again.ratings_added) == (0, 0)


def test_a_failed_read_writes_nothing(catalog_db: Database, imdb_dir: Path, tmp_path) -> None:
    from storage.imdb_files import ImdbFileError

    broken = tmp_path / "broken"
    shutil.copytree(imdb_dir, broken)
    data = (broken / "title.crew.tsv.gz").read_bytes()
    (broken / "title.crew.tsv.gz").write_bytes(data[: len(data) // 2])  # cut off
    snapshot = catalog_db.execute("SELECT * FROM movies ORDER BY id").fetchall()
    with pytest.raises(ImdbFileError, match="title.crew.tsv.gz is damaged"):
        update(catalog_db, broken)
    assert catalog_db.execute("SELECT * FROM movies ORDER BY id").fetchall() == snapshot


# ---------------------------------------------------------------------- 2026 exports


def matched(db: Database, data: bytes, name: str) -> tuple[int, int, history_import.Plan]:
    """(films matched, films of the export that are in the IMDb files, the plan)."""
    rows = history_import.read_file(data, name)
    plan = history_import.plan_import(
        rows, history_import.CatalogMatcher(db), history_import.History({}, set(), set())
    )
    films = [r for r in rows if not (r.title_type or "").startswith("TV")]
    return len(plan.new), len(films), plan


def test_a_2026_imdb_export_matches_at_least_95_percent_of_its_films(
    catalog_db: Database, imdb_dir: Path
) -> None:
    before, films, _ = matched(catalog_db, imdb_export(), "ratings.csv")
    update(catalog_db, imdb_dir)
    found, films, plan = matched(catalog_db, imdb_export(), "ratings.csv")
    assert films == 41 and before == 17
    assert found / films >= 0.95, plan.report()
    # The one left out: a festival film with 120 votes, under the keep rule's 500.
    assert plan.not_in_catalog == ["A Festival Film Few Saw (2024)"]
    assert len(plan.not_a_movie) == 2


def test_a_2026_letterboxd_export_matches_at_least_95_percent_of_its_films(
    catalog_db: Database, imdb_dir: Path
) -> None:
    update(catalog_db, imdb_dir)
    found, films, plan = matched(catalog_db, letterboxd_export(), "letterboxd.zip")
    assert films == 30
    assert found / films >= 0.95, plan.report()


def test_connect_brings_the_catalog_updates_table(tmp_path: Path) -> None:
    db = connect(tmp_path / "fresh.db")
    assert db["catalog_updates"].exists()
    db.close()
