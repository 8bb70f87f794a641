"""`moviebot catalog update` through the real download code against a loopback IMDb datasets
server (devtools/fake_imdb.py): a full update, unchanged files (304), and every failure (cut
halfway, corrupt gzip, changed header, over the size cap, 404, offline) leaving the catalog as
it was with one line saying why; `catalog status`; the bot's scheduled refresh."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from devtools.fake_imdb import FakeImdb
from devtools.imdb_files import write_realistic
from moviebot.catalog_update import (
    CatalogRefresh,
    CatalogUpdateError,
    refresh_days,
    refresh_due,
    update_catalog,
)
from moviebot.cli import main
from storage.db import connect
from storage.imdb_catalog import ATTRIBUTION, ID_OFFSET
from storage.imdb_files import AKAS, BASICS, FILES, RATINGS

OPPENHEIMER = ID_OFFSET + 15398776


@pytest.fixture(scope="session")
def imdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_realistic(tmp_path_factory.mktemp("imdb"))


@pytest.fixture
def server(imdb_dir: Path):
    fake = FakeImdb(imdb_dir).start()
    yield fake
    fake.stop()


def catalog_digest(db_path: Path) -> str:
    """A digest of every film row: equal digests, equal catalogs."""
    db = connect(db_path)
    try:
        rows = db.execute("SELECT * FROM movies ORDER BY id").fetchall()
    finally:
        db.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def updates(db_path: Path) -> list[tuple]:
    db = connect(db_path)
    try:
        return db.execute("SELECT status, error FROM catalog_updates ORDER BY id").fetchall()
    finally:
        db.close()


def test_a_full_update_downloads_the_four_files_and_adds_the_new_films(
    catalog_db_path: Path, server: FakeImdb, capsys
) -> None:
    code, out, err = cli(capsys, "catalog", "update", "--db", str(catalog_db_path),
                         "--url", server.url)  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"Catalog updated from {server.url} in ")
    assert "9,962 films from IMDb's files (220 new, 9,742 updated)" in out
    assert out.rstrip().endswith(ATTRIBUTION)
    assert sorted(name for name, _, _ in server.requests) == sorted(FILES)
    db = connect(catalog_db_path)
    label = db.execute("SELECT title, year FROM movies WHERE id = ?", [OPPENHEIMER]).fetchone()
    db.close()
    assert label == ("Oppenheimer", 2023)
    assert [status for status, _ in updates(catalog_db_path)] == ["ok"]
    # Nothing downloaded is left behind beside the database.
    assert not [p for p in catalog_db_path.parent.iterdir() if p.name.startswith("moviebot-imdb")]


def test_unchanged_files_answer_304_and_nothing_is_rewritten(
    catalog_db_path: Path, server: FakeImdb, capsys
) -> None:
    args = ("catalog", "update", "--db", str(catalog_db_path), "--url", server.url, "--json")
    assert cli(capsys, *args)[0] == 0
    digest = catalog_digest(catalog_db_path)
    server.requests.clear()
    code, out, _ = cli(capsys, *args)
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "unchanged"
    assert data["message"].startswith(f"Catalog unchanged: the files at {server.url} are the ones")
    # Each file was asked for with the ETag and date of the copy applied.
    assert len(server.requests) == 4 and all(etag and since for _, etag, since in server.requests)
    assert catalog_digest(catalog_db_path) == digest
    assert [status for status, _ in updates(catalog_db_path)] == ["ok", "unchanged"]


def test_a_changed_file_is_downloaded_again_with_the_others(
    catalog_db_path: Path, imdb_dir: Path, tmp_path: Path, capsys
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    for name in FILES:
        (served / name).write_bytes((imdb_dir / name).read_bytes())
    fake = FakeImdb(served).start()
    try:
        args = ("catalog", "update", "--db", str(catalog_db_path), "--url", fake.url)
        assert cli(capsys, *args)[0] == 0
        # IMDb's next daily file: one vote more for every film.
        os.utime(served / RATINGS, (1, 1))
        lines = (imdb_dir / RATINGS).read_bytes()
        import gzip

        text = gzip.decompress(lines).decode().splitlines()
        bumped = [text[0]] + [
            "\t".join([*line.split("\t")[:2], str(int(line.split("\t")[2]) + 1)])
            for line in text[1:]
        ]
        (served / RATINGS).write_bytes(gzip.compress(("\n".join(bumped) + "\n").encode()))
        fake.requests.clear()
        code, out, err = cli(capsys, *args)
    finally:
        fake.stop()
    assert code == 0 and out.startswith("Catalog updated"), err
    # The unchanged three answered 304, then came again unconditionally.
    assert len(fake.requests) == 7
    assert {name for name, etag, _ in fake.requests if etag is None} == set(FILES) - {RATINGS}


@pytest.mark.parametrize(
    ("fault", "file", "message"),
    [
        ("cut", BASICS, "the download of title.basics.tsv.gz was cut off at "),
        ("corrupt", AKAS, "title.akas.tsv.gz is damaged"),
        ("header", BASICS, "title.basics.tsv.gz has the header 'tconst x_titleType"),
    ],
)
def test_a_broken_download_changes_nothing_and_says_so_in_one_line(
    catalog_db_path: Path, server: FakeImdb, capsys, fault: str, file: str, message: str
) -> None:
    digest = catalog_digest(catalog_db_path)
    server.fault, server.fault_file = fault, file
    code, out, err = cli(capsys, "catalog", "update", "--db", str(catalog_db_path),
                         "--url", server.url)  # fmt: skip
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith(f"Error: {message}"), err
    assert err.rstrip().endswith("; the catalog is unchanged")
    assert catalog_digest(catalog_db_path) == digest
    assert [status for status, _ in updates(catalog_db_path)] == ["failed"]
    assert not [p for p in catalog_db_path.parent.iterdir() if p.name.startswith("moviebot-imdb")]


def test_a_file_over_the_cap_by_its_length_is_refused_before_downloading(
    catalog_db_path: Path, server: FakeImdb
) -> None:
    digest = catalog_digest(catalog_db_path)
    with pytest.raises(CatalogUpdateError, match=r"title.basics.tsv.gz is [\d,]+ bytes, over"):
        update_catalog(catalog_db_path, url=server.url, max_bytes=100_000)
    assert catalog_digest(catalog_db_path) == digest


def test_over_the_cap_while_streaming_stops_the_download(
    catalog_db_path: Path, server: FakeImdb
) -> None:
    digest = catalog_digest(catalog_db_path)
    server.fault, server.fault_file = "oversize", RATINGS  # no Content-Length, 64 MB more
    with pytest.raises(CatalogUpdateError) as raised:
        update_catalog(catalog_db_path, url=server.url, max_bytes=1_000_000)
    assert str(raised.value) == (
        "title.ratings.tsv.gz went past the 1,000,000-byte limit while downloading; "
        "the catalog is unchanged"
    )
    assert catalog_digest(catalog_db_path) == digest
    assert [status for status, _ in updates(catalog_db_path)] == ["failed"]


def test_an_unreachable_host_changes_nothing(
    catalog_db_path: Path, server: FakeImdb, capsys
) -> None:
    digest = catalog_digest(catalog_db_path)
    server.go_offline()
    code, out, err = cli(capsys, "catalog", "update", "--db", str(catalog_db_path),
                         "--url", server.url)  # fmt: skip
    assert (code, out) == (1, "")
    assert err.startswith(f"Error: cannot reach 127.0.0.1:{server.port}: ") and err.count("\n") == 1
    assert catalog_digest(catalog_db_path) == digest


def test_a_missing_file_on_the_server_is_a_404_line(
    catalog_db_path: Path, server: FakeImdb, capsys
) -> None:
    code, _, err = cli(capsys, "catalog", "update", "--db", str(catalog_db_path),
                       "--url", server.url + "elsewhere")  # fmt: skip
    assert code == 1
    assert err == (
        f"Error: {server.url}elsewhere/{FILES[0]} answered 404 Not Found; "
        "the catalog is unchanged\n"
    )


def test_update_from_a_folder_and_a_folder_missing_a_file(
    catalog_db_path: Path, imdb_dir: Path, tmp_path: Path, capsys
) -> None:
    code, out, _ = cli(capsys, "catalog", "update", "--db", str(catalog_db_path),
                       "--from", str(imdb_dir))  # fmt: skip
    assert code == 0 and "220 new" in out
    again = cli(capsys, "catalog", "update", "--db", str(catalog_db_path), "--from", str(imdb_dir))
    assert again[1].startswith("Catalog unchanged")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = cli(capsys, "catalog", "update", "--db", str(catalog_db_path),
                       "--from", str(empty))  # fmt: skip
    assert code == 1 and err.startswith(f"Error: {empty} has no title.basics.tsv.gz, ")


def test_catalog_status_says_what_the_catalog_holds_and_the_terms(
    catalog_db_path: Path, server: FakeImdb, capsys
) -> None:
    code, out, _ = cli(capsys, "catalog", "status", "--db", str(catalog_db_path))
    assert code == 0
    assert out.splitlines()[0] == (
        "Catalog: 9,742 films (0 added from IMDb, 0 with IMDb's rating and votes), newest year 2018"
    )
    assert "Never updated from IMDb" in out
    cli(capsys, "catalog", "update", "--db", str(catalog_db_path), "--url", server.url)
    code, out, _ = cli(capsys, "catalog", "status", "--db", str(catalog_db_path), "--json")
    status = json.loads(out)
    assert (status["films"], status["from_imdb"], status["newest_year"]) == (9962, 220, 2026)
    assert status["last_update"]["source"] == server.url
    assert status["attribution"] == ATTRIBUTION and "non-commercial" in status["terms"]
    text = cli(capsys, "catalog", "status", "--db", str(catalog_db_path))[1]
    assert text.splitlines()[-1] == ATTRIBUTION


# ---------------------------------------------------------------------- the schedule


def test_refresh_days_come_from_the_environment() -> None:
    assert refresh_days({}) == 7
    assert refresh_days({"MOVIEBOT_CATALOG_DAYS": "0"}) == 0
    assert refresh_days({"MOVIEBOT_CATALOG_DAYS": " 1.5 "}) == 1.5
    for bad in ("weekly", "-1", "nan"):
        with pytest.raises(ValueError, match="MOVIEBOT_CATALOG_DAYS"):
            refresh_days({"MOVIEBOT_CATALOG_DAYS": bad})


def test_the_scheduled_refresh_runs_when_due_in_a_child_process(
    catalog_db_path: Path, server: FakeImdb
) -> None:
    assert not refresh_due(catalog_db_path, 0)  # 0 days: never
    assert refresh_due(catalog_db_path, 7)  # never updated
    refresh = CatalogRefresh(7, url=server.url)
    line = refresh(catalog_db_path)
    assert line is not None and line.startswith(f"Catalog updated from {server.url}")
    assert catalog_digest(catalog_db_path) != ""
    db = connect(catalog_db_path)
    assert db.execute("SELECT 1 FROM movies WHERE id = ?", [OPPENHEIMER]).fetchone()
    db.close()
    server.requests.clear()
    assert refresh(catalog_db_path) is None  # updated: not due for a week
    assert server.requests == []


def test_a_failed_scheduled_refresh_keeps_the_catalog_and_waits_before_retrying(
    catalog_db_path: Path, server: FakeImdb
) -> None:
    digest = catalog_digest(catalog_db_path)
    server.go_offline()
    line = CatalogRefresh(7, url=server.url)(catalog_db_path)
    assert line is not None and line.startswith("Error: cannot reach 127.0.0.1")
    assert catalog_digest(catalog_db_path) == digest
    assert not refresh_due(catalog_db_path, 7)  # tried just now; again in RETRY_HOURS
