"""The `moviebot` command line: exact output, JSON for scripts, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from moviebot.cli import main


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_creates_the_database_with_the_catalog(tmp_path: Path, capsys) -> None:
    db = tmp_path / "sub" / "m.db"
    code, out, _ = run(capsys, "init", "--db", str(db))
    assert code == 0
    assert out == f"Database ready at {db}: 9,742 movies, 100,836 ratings (schema version 3).\n"
    code, out, _ = run(capsys, "init", "--db", str(db), "--json")
    assert json.loads(out)["imported"]["ratings_added"] == 0


def test_search_marks_the_pick_and_prints_json(catalog_db_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "search", "--db", str(catalog_db_path), "frozzen", "--limit", "2")
    assert code == 0
    assert out.splitlines() == [
        "*  106696  0.92     29 ratings  Frozen (2013)",
        "    75395  0.92      2 ratings  Frozen (2010)",
    ]
    code, out, _ = run(capsys, "search", "--db", str(catalog_db_path), "--json", "Cinderella 2015")
    data = json.loads(out)
    assert data[0]["label"] == "Cinderella (2015)" and data[0]["clear_winner"] is True


def test_search_without_a_match_exits_1(catalog_db_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "search", "--db", str(catalog_db_path), "qqqzzzxxx")
    assert (code, out) == (1, "No movie matches that title.\n")


def test_library_errors_are_one_line_and_exit_1(tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, "import", "--db", str(tmp_path / "m.db"), str(tmp_path / "no"))
    assert (code, out) == (1, "")
    assert err == f"Error: {tmp_path / 'no'} does not exist\n"
    code, _, err = run(capsys, "search", "--db", str(tmp_path / "m.db"), "x" * 300)
    assert code == 1 and err == "Error: a title is at most 200 characters\n"


def test_import_reports_what_it_added(tmp_path: Path, tutorial_dir: Path, capsys) -> None:
    db = str(tmp_path / "m.db")
    code, out, _ = run(capsys, "import", "--db", db, str(tutorial_dir))
    assert out == "Imported tutorial: 10 new movies, 5 new users, 29 new ratings.\n"
    code, out, _ = run(capsys, "import", "--db", db, str(tutorial_dir))
    assert out == "Imported tutorial: 0 new movies, 0 new users, 0 new ratings.\n"


def test_stats_json(tutorial_db, tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "stats", "--db", str(tmp_path / "tutorial.db"), "--json")
    data = json.loads(out)
    assert (code, data["movies"], data["ratings"], data["users"]) == (0, 10, 29, 5)


def test_db_defaults_to_the_moviebot_db_variable(tmp_path: Path, tutorial_dir: Path) -> None:
    env = {"MOVIEBOT_DB": str(tmp_path / "env.db"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "moviebot", "import", str(tutorial_dir)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env.db").exists()


def test_every_command_has_help_with_an_example(capsys) -> None:
    from moviebot.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, command in commands.items():
        assert "example: " in command.format_help() and "moviebot " in command.epilog, name
        assert "--db" in command.format_help(), name
