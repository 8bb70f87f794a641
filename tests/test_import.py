"""Importing MovieLens: counts, title parsing, synthetic user ids, idempotence, all-or-nothing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sqlite_utils import Database

from devtools.paths import shared_data_dir
from storage.errors import DatasetError
from storage.movielens import import_movielens
from storage.movies import get_movie
from storage.ratings import count_ratings, ratings_arrays
from storage.titles import parse_movielens_title, split_query_year


def test_bundled_catalog_has_every_movie_rating_and_user(catalog_db: Database) -> None:
    assert catalog_db.execute("SELECT count(*) FROM movies").fetchone()[0] == 9742
    assert count_ratings(catalog_db) == 100_836
    assert catalog_db.execute("SELECT count(*) FROM users").fetchone()[0] == 610
    # Every imported person has a negative id: Telegram's are positive.
    assert catalog_db.execute("SELECT max(id) FROM users").fetchone()[0] < 0
    _, _, scores = ratings_arrays(catalog_db)
    assert set(scores.tolist()) == set(range(1, 11))


def test_bundled_catalog_parses_titles_years_genres_and_links(catalog_db: Database) -> None:
    matrix = get_movie(catalog_db, 2571)
    assert (matrix.title, matrix.year, matrix.imdb_id, matrix.tmdb_id) == (
        "The Matrix",
        1999,
        "tt0133093",
        603,
    )
    assert matrix.genres == ("Action", "Sci-Fi", "Thriller")
    assert get_movie(catalog_db, 29).title == "The City of Lost Children"
    assert get_movie(catalog_db, 40697).year is None  # "Babylon 5" has no year
    assert get_movie(catalog_db, 143410).genres == ()  # "(no genres listed)"


def test_importing_twice_changes_nothing(catalog_db: Database) -> None:
    from moviebot.paths import bundled_dataset

    before = [
        catalog_db.execute(f"SELECT count(*), total(rowid) FROM {t}").fetchone()
        for t in ("movies", "users")
    ] + [catalog_db.execute("SELECT count(*), sum(rating) FROM ratings").fetchone()]
    summary = import_movielens(catalog_db, bundled_dataset())
    assert (summary.movies_added, summary.users_added, summary.ratings_added) == (0, 0, 0)
    after = [
        catalog_db.execute(f"SELECT count(*), total(rowid) FROM {t}").fetchone()
        for t in ("movies", "users")
    ] + [catalog_db.execute("SELECT count(*), sum(rating) FROM ratings").fetchone()]
    assert after == before


def test_folder_and_zip_import_the_same(tmp_path: Path, tutorial_dir: Path, db: Database) -> None:
    archive = tmp_path / "tutorial.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in ("movies.csv", "ratings.csv", "links.csv"):
            z.write(tutorial_dir / name, f"tutorial/{name}")
    summary = import_movielens(db, archive)
    assert (summary.dataset, summary.movies_added, summary.users_added) == ("tutorial", 10, 5)
    assert summary.ratings_added == 29
    again = import_movielens(db, tutorial_dir)  # same dataset name: nothing new
    assert again.ratings_added == 0


def test_a_second_dataset_gets_its_own_user_ids(tmp_path: Path, tutorial_dir: Path, db) -> None:
    import_movielens(db, tutorial_dir)
    other = tmp_path / "other"
    other.mkdir()
    for name in ("movies.csv", "ratings.csv"):
        (other / name).write_bytes((tutorial_dir / name).read_bytes())
    summary = import_movielens(db, other)
    assert (summary.movies_added, summary.users_added, summary.ratings_added) == (0, 5, 29)
    assert count_ratings(db) == 58


@pytest.mark.parametrize(
    ("ratings_csv", "message"),
    [
        ("userId,movieId,rating,timestamp\n1,1,4.0,100\n1,2,6.0,100\n", "half stars"),
        ("userId,movieId,rating,timestamp\n1,1,4.0,100\n1,99,4.0,100\n", "not in movies.csv"),
        ("userId,movieId,rating,timestamp\n1,1,4.0,100\nx,1,4.0,100\n", "line 3"),
        ("user,movie,score\n1,1,4.0\n", "header"),
    ],
)
def test_a_malformed_dataset_is_refused_and_nothing_is_written(
    tmp_path: Path, tutorial_dir: Path, db: Database, ratings_csv: str, message: str
) -> None:
    (tutorial_dir / "ratings.csv").write_text(ratings_csv)
    with pytest.raises(DatasetError, match=message):
        import_movielens(db, tutorial_dir)
    for table in ("movies", "users", "ratings", "datasets"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def test_missing_path_or_file_is_a_dataset_error(tmp_path: Path, db: Database) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        import_movielens(db, tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no ratings.csv"):
        import_movielens(db, tmp_path / "empty")
    (tmp_path / "file.txt").write_text("hello")
    with pytest.raises(DatasetError, match="neither a folder nor a zip"):
        import_movielens(db, tmp_path / "file.txt")


@pytest.mark.parametrize(
    ("raw", "title", "year", "aliases"),
    [
        ("Matrix, The (1999)", "The Matrix", 1999, ()),
        (
            "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
            "The City of Lost Children",
            1995,
            ("La Cité des enfants perdus",),
        ),
        (
            "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)",
            "Léon: The Professional",
            1994,
            ("The Professional", "Léon"),
        ),
        ("(500) Days of Summer (2009)", "(500) Days of Summer", 2009, ()),
        ("Avventura, L' (1960)", "L'Avventura", 1960, ()),
        ("Babylon 5", "Babylon 5", None, ()),
        ("Death Note: Desu nôto (2006–2007)", "Death Note: Desu nôto", 2006, ()),
        (
            "Very Harold & Kumar 3D Christmas, A (2011)",
            "A Very Harold & Kumar 3D Christmas",
            2011,
            (),
        ),
        (
            "Good, the Bad and the Ugly, The (Buono, il brutto, il cattivo, Il) (1966)",
            "The Good, the Bad and the Ugly",
            1966,
            ("Il Buono, il brutto, il cattivo",),
        ),
        ("1917 (2019)", "1917", 2019, ()),
    ],
)
def test_tricky_movielens_titles(raw: str, title: str, year, aliases) -> None:
    parsed = parse_movielens_title(raw)
    assert (parsed.title, parsed.year, parsed.aliases) == (title, year, aliases)


def test_every_bundled_title_parses_to_a_non_empty_title(catalog_db: Database) -> None:
    rows = catalog_db.execute("SELECT title, year, source_title FROM movies").fetchall()
    assert all(title.strip() for title, _, _ in rows)
    assert sum(1 for _, year, _ in rows if year is None) < 20


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Cinderella 2015", ("Cinderella", 2015)),
        ("matrix (1999)", ("matrix", 1999)),
        ("1917", ("1917", None)),
        ("Ted", ("Ted", None)),
    ],
)
def test_a_trailing_year_is_split_off_a_query(query: str, expected) -> None:
    assert split_query_year(query) == expected


def test_the_shared_copy_matches_the_bundled_one() -> None:
    shared = shared_data_dir()
    if not shared.is_dir():
        pytest.skip("../shared is not beside this checkout")
    from moviebot.paths import bundled_dataset

    with zipfile.ZipFile(bundled_dataset()) as z:
        for name in ("movies.csv", "ratings.csv", "links.csv"):
            assert z.read(f"ml-latest-small/{name}") == (shared / name).read_bytes()


def _all_counts(db: Database) -> list[int]:
    return [
        db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("movies", "users", "ratings", "datasets")
    ]


def _zip_folder(folder: Path, archive: Path, replace: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("movies.csv", "ratings.csv", "links.csv"):
            data = (replace or {}).get(name, (folder / name).read_bytes())
            z.writestr(f"ml/{name}", data)
    return archive


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("-1000000005,1,4.0,100", "userId -1000000005 is outside"),  # would be user +5
        ("-3,1,4.0,100", "userId -3 is outside"),
        ("0,1,4.0,100", "userId 0 is outside"),
        ("1000000000,1,4.0,100", "userId 1000000000 is outside"),  # the next dataset's block
        ("99999999999999999999,1,4.0,100", "outside"),
        ("1,99999999999999999999,4.0,100", "movie id 99999999999999999999 is out of range"),
    ],
)
def test_user_and_movie_ids_out_of_range_are_refused(
    tutorial_dir: Path, db: Database, row: str, message: str
) -> None:
    (tutorial_dir / "ratings.csv").write_text(
        f"userId,movieId,rating,timestamp\n1,1,4.0,100\n{row}\n"
    )
    with pytest.raises(DatasetError, match=message):
        import_movielens(db, tutorial_dir)
    assert _all_counts(db) == [0, 0, 0, 0]


def test_a_huge_movie_id_in_movies_csv_is_refused(tutorial_dir: Path, db: Database) -> None:
    movies = (tutorial_dir / "movies.csv").read_text()
    (tutorial_dir / "movies.csv").write_text(movies + "99999999999999999999,Big (1988),Comedy\n")
    with pytest.raises(DatasetError, match="movies.csv line 12: movie id .* is out of range"):
        import_movielens(db, tutorial_dir)
    assert _all_counts(db) == [0, 0, 0, 0]


def test_a_file_that_is_not_utf8_is_refused(tutorial_dir: Path, db: Database) -> None:
    movies = (tutorial_dir / "movies.csv").read_bytes()
    (tutorial_dir / "movies.csv").write_bytes(
        movies + "11,Amélie (2001),Comedy\n".encode("latin-1")
    )
    with pytest.raises(DatasetError, match="cannot be read: 'utf-8' codec"):
        import_movielens(db, tutorial_dir)
    assert _all_counts(db) == [0, 0, 0, 0]


def test_a_zip_with_a_bad_crc_is_refused(tmp_path: Path, tutorial_dir: Path, db: Database) -> None:
    archive = tmp_path / "ml.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for name in ("movies.csv", "ratings.csv", "links.csv"):
            z.write(tutorial_dir / name, f"ml/{name}")
    data = bytearray(archive.read_bytes())
    spot = data.index(b"Straight Outta Compton")  # stored: the bytes are in the archive as is
    data[spot] = ord("X")
    archive.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="Bad CRC-32"):
        import_movielens(db, archive)
    assert _all_counts(db) == [0, 0, 0, 0]


def test_a_zip_bomb_is_refused_before_it_is_inflated(
    tmp_path: Path, tutorial_dir: Path, db: Database
) -> None:
    bomb = b"userId,movieId,rating,timestamp\n" + b"1" * (64 * 1024**2)  # one 64 MB line
    archive = _zip_folder(tutorial_dir, tmp_path / "bomb.zip", {"ratings.csv": bomb})
    assert archive.stat().st_size < 200_000
    with pytest.raises(DatasetError, match="ratings.csv inflates .* times over"):
        import_movielens(db, archive)
    assert _all_counts(db) == [0, 0, 0, 0]


def test_a_line_longer_than_the_cap_is_refused(tutorial_dir: Path, db: Database) -> None:
    (tutorial_dir / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "1" * 100_000)
    with pytest.raises(DatasetError, match="ratings.csv has a line longer than 65,536"):
        import_movielens(db, tutorial_dir)
    assert _all_counts(db) == [0, 0, 0, 0]


def test_a_zip_declaring_too_much_is_refused(
    tmp_path: Path, tutorial_dir: Path, db: Database, monkeypatch
) -> None:
    import storage.movielens as movielens

    archive = _zip_folder(tutorial_dir, tmp_path / "ml.zip")
    monkeypatch.setattr(movielens, "MAX_UNCOMPRESSED", 1000)
    with pytest.raises(DatasetError, match="would inflate to .* bytes; the limit is 1,000"):
        import_movielens(db, archive)
    assert _all_counts(db) == [0, 0, 0, 0]
