"""Every failure of the `moviebot` CLI is one "Error: ..." line on stderr and a non-zero exit,
never a traceback: paths that cannot be made or read, files that are not what they claim, a
Bot API that cannot be reached. Run as a person would: a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devtools.paths import REPO


def moviebot(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "moviebot", *argv],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_one_error_line(result: subprocess.CompletedProcess, starts: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {starts}"), lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("db", "starts"),
    [
        ("/proc/x/y.db", "No such file or directory: /proc/x"),
        ("/dev/null/y.db", "File exists: /dev/null"),
    ],
)
def test_a_database_path_that_cannot_be_made_is_one_line(db: str, starts: str) -> None:
    # `users` opens (and would create) the database; `stats` never creates one.
    assert_one_error_line(moviebot("users", "--db", db), starts)


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("these are my notes\n" * 100)
    result = moviebot("stats", "--db", str(tmp_path / "notes.db"))
    assert_one_error_line(result, "")
    assert "not a SQLite database" in result.stderr


def test_bad_imports_are_one_line_and_change_nothing(tmp_path: Path, tutorial_dir: Path) -> None:
    db = str(tmp_path / "bot.db")
    archive = tmp_path / "ml.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for name in ("movies.csv", "ratings.csv", "links.csv"):
            z.write(tutorial_dir / name, f"ml/{name}")
    data = bytearray(archive.read_bytes())
    data[data.index(b"Straight Outta Compton")] = ord("X")
    archive.write_bytes(bytes(data))
    assert_one_error_line(moviebot("import", "--db", db, str(archive)), str(archive))
    latin = tmp_path / "latin"
    latin.mkdir()
    for name in ("movies.csv", "ratings.csv"):
        (latin / name).write_bytes((tutorial_dir / name).read_bytes())
    with (latin / "movies.csv").open("ab") as file:
        file.write("11,Amélie (2001),Comedy\n".encode("latin-1"))
    assert_one_error_line(moviebot("import", "--db", db, str(latin)), str(latin))
    huge = tmp_path / "huge"
    huge.mkdir()
    (huge / "movies.csv").write_text("movieId,title,genres\n12345678901234567890,Big,Comedy\n")
    (huge / "ratings.csv").write_text("userId,movieId,rating,timestamp\n")
    assert_one_error_line(moviebot("import", "--db", db, str(huge)), "movies.csv line 2")
    stats = moviebot("stats", "--db", db, "--json")
    assert stats.returncode == 0 and '"ratings": 0' in stats.stdout


def test_run_against_an_unreachable_api_is_one_error_line(
    tmp_path: Path, tutorial_dir: Path
) -> None:
    db = str(tmp_path / "bot.db")
    assert moviebot("import", "--db", db, str(tutorial_dir)).returncode == 0
    result = moviebot(
        "run",
        "--db",
        db,
        "--api-url",
        f"http://127.0.0.1:{_closed_port()}",
        env={"TELEGRAM_BOT_TOKEN": "123456:ABCdefGHIjklMNOpqrSTUvwxYZ", "HOME": os.devnull},
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [result.stderr.splitlines()[-1]]
    assert errors[0].startswith("Error: cannot reach the Telegram Bot API at http://127.0.0.1:")
    assert "ABCdef" not in result.stderr  # the token is never printed


def test_stats_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    result = moviebot("stats", "--db", str(tmp_path / "missing.db"))
    assert result.returncode == 1
    assert result.stderr == f"Error: no database at {tmp_path / 'missing.db'}\n"
    assert list(tmp_path.iterdir()) == []


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path, tutorial_dir: Path) -> None:
    # `moviebot search ... | head -3`: the reader stops, the CLI ends without "Error: Broken
    # pipe" (exit 141, as a tool the pipe ended).
    db = str(tmp_path / "bot.db")
    assert moviebot("import", "--db", db, str(tutorial_dir)).returncode == 0
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "moviebot", "users", "--db", db, "--limit", "1000"]
    with subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        process.stdout.close()  # nobody reads: the first print meets a broken pipe
        error = process.stderr.read().decode()
        code = process.wait(timeout=300)
    assert (code, error) == (141, "")


def test_import_ratings_dry_run_stores_no_user(tmp_path: Path, tutorial_dir: Path) -> None:
    db = str(tmp_path / "bot.db")
    assert moviebot("import", "--db", db, str(tutorial_dir)).returncode == 0
    export = tmp_path / "ratings.csv"
    export.write_text("Const,Your Rating,Date Rated,Title,Title Type,Year\n")
    result = moviebot("import-ratings", "--db", db, "--user", "4242", "--dry-run", str(export))
    assert result.returncode == 0 and "Dry run: nothing was stored." in result.stdout
    users = moviebot("users", "--db", db)
    assert "4242" not in users.stdout
