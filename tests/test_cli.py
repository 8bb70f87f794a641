"""The `moviebot` command line: exact output, JSON for scripts, one-line errors, exit codes."""

from __future__ import annotations

import json
import shutil
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

    assert out == f"Database ready at {db}: 9,742 movies, 100,836 ratings (schema version 13).\n"
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
    assert data["catalog"] == {"films": 10, "newest_year": 2015, "updated": None}


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


# --- recommend, similar, evaluate -------------------------------------------------------------
# A tiny planted catalog: half the users love the animated movies and dislike the crime ones,
# the other half the reverse; every movie but the last has all 24 users' ratings.

ANIMATED = ["Frozen (2013)", "Tangled (2010)", "Toy Story 3 (2010)", "Moana (2016)", "Up (2009)"]
CRIME = ["Heat (1995)", "Casino (1995)", "Goodfellas (1990)", "Scarface (1983)", "Fargo (1996)"]
RARE = "Obscure Film (2001)"  # two ratings: too few for /similar
FAN = 101  # a Telegram user who rated two animated movies and a crime one
FAN_RATINGS = {1: 10, 2: 9, 6: 2}  # Frozen, Tangled, Heat
NEWCOMER = 102  # a Telegram user without ratings


def planted_movies() -> list[tuple[int, str, str]]:
    return (
        [(i, title, "Animation|Children") for i, title in enumerate(ANIMATED, start=1)]
        + [(i, title, "Crime|Drama") for i, title in enumerate(CRIME, start=6)]
        + [(11, RARE, "Drama")]
    )


def planted_ratings() -> list[tuple[int, int, float, int]]:
    """(user, movie, stars, timestamp) rows."""
    rows = []
    for user in range(1, 25):
        likes_animation = user % 2 == 1
        for movie, _, genres in planted_movies():
            if movie == 11 and user > 2:
                continue
            likes = genres.startswith("Animation") == likes_animation
            stars = (4.5 if likes else 1.5) + 0.5 * ((user + movie) % 2)
            rows.append((user, movie, stars, 1_600_000_000 + 3600 * user + 60 * movie))
    return rows


def write_ratings_csv(path: Path, rows: list[tuple[int, int, float, int]]) -> Path:
    lines = ["userId,movieId,rating,timestamp"]
    lines += [f"{user},{movie},{stars:.1f},{ts}" for user, movie, stars, ts in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_planted_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    movies = ["movieId,title,genres"] + [f"{i},{t},{g}" for i, t, g in planted_movies()]
    (folder / "movies.csv").write_text("\n".join(movies) + "\n")
    write_ratings_csv(folder / "ratings.csv", planted_ratings())
    links = ["movieId,imdbId,tmdbId"] + [f"{i},{1000 + i:07d},{5000 + i}" for i in range(1, 12)]
    (folder / "links.csv").write_text("\n".join(links) + "\n")
    return folder


@pytest.fixture(scope="module")
def _planted_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted catalog imported, FAN's and NEWCOMER's ratings stored, the model fitted."""
    from moviebot.paths import model_path_for
    from moviebot.training import train
    from storage.db import connect
    from storage.movielens import import_movielens
    from storage.ratings import set_rating
    from storage.users import save_user

    root = tmp_path_factory.mktemp("planted")
    path = root / "planted.db"
    database = connect(path)
    import_movielens(database, write_planted_folder(root / "ml"))
    save_user(database, FAN, "Fan")
    for movie, score in FAN_RATINGS.items():
        set_rating(database, FAN, movie, score)
    save_user(database, NEWCOMER, "Newcomer")
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    train(path, model_path_for(path))
    return path


@pytest.fixture
def planted_db(tmp_path: Path, _planted_template: Path) -> str:
    """A private copy of the planted database and its model file."""
    from moviebot.paths import model_path_for

    path = tmp_path / "planted.db"
    shutil.copyfile(_planted_template, path)
    shutil.copyfile(model_path_for(_planted_template), model_path_for(path))
    return str(path)


def listed(out: str) -> list[str]:
    """The titles of a numbered list ` 1. 8.7  Title (year)` (or ` 1.  42%  Title (year)`),
    checking the numbering."""
    rows = [line.split(maxsplit=2) for line in out.splitlines()]
    assert [row[0] for row in rows] == [f"{i}." for i in range(1, len(rows) + 1)]
    for row in rows:
        number = float(row[1].removesuffix("%"))
        assert 0 <= number <= (100 if row[1].endswith("%") else 10)
    return [row[2] for row in rows]


def test_recommend_leaves_out_the_movies_the_user_rated(planted_db: str, capsys) -> None:
    code, out, err = run(capsys, "recommend", "--db", planted_db, "--user", str(FAN), "-n", "20")
    assert (code, err) == (0, "")
    titles = listed(out)
    assert titles and len(titles) == len(set(titles))
    rated = {"Frozen (2013)", "Tangled (2010)", "Heat (1995)"}
    assert not rated & set(titles)
    assert set(titles) <= {t for _, t, _ in planted_movies()} - rated
    code, out, _ = run(capsys, "recommend", "--db", planted_db, "--user", str(FAN), "-n", "3")
    assert code == 0 and len(listed(out)) == 3


def test_recommend_json_gives_picks_with_their_reason(planted_db: str, capsys) -> None:
    code, out, _ = run(
        capsys, "recommend", "--db", planted_db, "--user", str(FAN), "-n", "3", "--json"
    )
    picks = json.loads(out)
    assert code == 0 and len(picks) == 3
    for pick in picks:
        assert set(pick) == {"movie_id", "title", "score", "genres", "because"}
        assert pick["movie_id"] not in FAN_RATINGS
        assert isinstance(pick["title"], str) and isinstance(pick["genres"], list)
        assert 1 <= pick["score"] <= 10
        if pick["because"] is not None:
            assert set(pick["because"]) == {"movie_id", "rating"}
            assert FAN_RATINGS[pick["because"]["movie_id"]] == pick["because"]["rating"]
    # The fan of the two animated movies gets the other animated ones first.
    assert "Animation" in picks[0]["genres"]
    assert [p["score"] for p in picks] == sorted((p["score"] for p in picks), reverse=True)


def test_recommend_genre_keeps_to_the_genre(planted_db: str, capsys) -> None:
    code, out, _ = run(
        capsys, "recommend", "--db", planted_db, "--user", str(FAN), "--genre", "Crime", "--json"
    )
    picks = json.loads(out)
    assert code == 0 and picks
    assert all("Crime" in p["genres"] for p in picks)
    assert 6 not in {p["movie_id"] for p in picks}  # Heat: rated


def test_recommend_without_ratings_or_user_lists_the_best_rated(planted_db: str, capsys) -> None:
    code, out, err = run(capsys, "recommend", "--db", planted_db, "-n", "2")
    assert (code, err) == (0, "") and len(listed(out)) == 2
    code, out, _ = run(capsys, "recommend", "--db", planted_db, "--user", str(NEWCOMER), "-n", "2")
    assert code == 0 and len(listed(out)) == 2


def test_recommend_for_an_unknown_user_is_an_error(planted_db: str, capsys) -> None:
    code, out, err = run(capsys, "recommend", "--db", planted_db, "--user", "999")
    assert (code, out, err) == (1, "", "Error: no user with id 999\n")


@pytest.mark.parametrize("command", [["recommend"], ["similar", "frozen"]])
def test_n_that_is_not_a_number_is_a_usage_error(planted_db: str, command, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--db", planted_db, "-n", "ten"])
    assert exit_.value.code == 2
    assert "argument -n: invalid int value: 'ten'" in capsys.readouterr().err


@pytest.mark.parametrize("n", ["0", "-1"])
@pytest.mark.parametrize("command", [["recommend"], ["similar", "frozen"]])
def test_n_below_1_is_a_usage_error(planted_db: str, command, n: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--db", planted_db, "-n", n])
    assert exit_.value.code == 2
    assert f"argument -n: must be at least 1, got {n}" in capsys.readouterr().err


def test_a_model_path_in_a_missing_folder_is_an_error(tmp_path: Path, planted_db: str, capsys):
    model = tmp_path / "no" / "such" / "folder" / "m.npz"
    code, out, err = run(capsys, "recommend", "--db", planted_db, "--model", str(model))
    assert (code, out) == (1, "")
    assert err.startswith("Error: ") and err.count("\n") == 1


def test_similar_lists_neighbours_but_not_the_movie_itself(planted_db: str, capsys) -> None:
    code, out, err = run(capsys, "similar", "--db", planted_db, "frozen", "-n", "4")
    assert (code, err) == (0, "")
    first, *rest = out.splitlines()
    assert first == "Movies like Frozen (2013):"
    titles = listed("\n".join(rest))
    assert len(titles) == 4 and "Frozen (2013)" not in titles
    assert titles[0] in ANIMATED


def test_similar_json_by_title_and_by_id(planted_db: str, capsys) -> None:
    code, out, _ = run(capsys, "similar", "--db", planted_db, "--json", "casino", "1995")
    data = json.loads(out)
    assert code == 0
    assert data["movie"] == {"movie_id": 7, "title": "Casino (1995)"}
    similar = data["similar"]
    assert len(similar) == 10 - 1  # every other movie with enough ratings; not the rare one
    assert all(set(s) == {"movie_id", "title", "fans_also_liked"} for s in similar)
    assert 7 not in {s["movie_id"] for s in similar}
    assert all(0 <= s["fans_also_liked"] <= 1 for s in similar)
    _, by_id, _ = run(capsys, "similar", "--db", planted_db, "--json", "--id", "7")
    assert json.loads(by_id) == data


def test_similar_for_a_rarely_rated_movie_says_so(planted_db: str, capsys) -> None:
    code, out, _ = run(capsys, "similar", "--db", planted_db, "obscure", "film")
    assert (code, out) == (0, f"No similar movies known for {RARE}.\n")


def test_similar_bad_movie_is_a_one_line_error(planted_db: str, capsys) -> None:
    code, out, err = run(capsys, "similar", "--db", planted_db, "qqqzzzxxx")
    assert (code, out, err) == (1, "", "Error: no movie matches 'qqqzzzxxx'\n")
    code, out, err = run(capsys, "similar", "--db", planted_db, "--id", "999")
    assert (code, out, err) == (1, "", "Error: no movie with id 999\n")
    code, out, err = run(capsys, "similar", "--db", planted_db)
    assert (code, out, err) == (1, "", "Error: a title to search for cannot be empty\n")
    # Two titles typed are not one title (search.resolve): nothing is acted on.
    code, out, err = run(capsys, "similar", "--db", planted_db, "heat", "casino")
    assert (code, out, err) == (1, "", "Error: no movie matches 'heat casino'\n")
    code, out, err = run(capsys, "similar", "--db", planted_db, "heta")
    assert (code, out) == (1, "")
    assert err.startswith("Error: 'heta' is not a clear match: Heat (1995) (id 6)")
    assert err.endswith(". Add the year, or use --id.\n") and err.count("\n") == 1


@pytest.fixture
def split(tmp_path: Path) -> tuple[str, str]:
    """A tiny train/test pair: every fifth planted rating is a test rating."""
    rows = planted_ratings()
    train = write_ratings_csv(tmp_path / "train.csv", [r for i, r in enumerate(rows) if i % 5])
    test = write_ratings_csv(tmp_path / "test.csv", [r for i, r in enumerate(rows) if not i % 5])
    return str(train), str(test)


def test_evaluate_prints_a_row_per_model(split: tuple[str, str], capsys) -> None:
    train, test = split
    code, out, err = run(capsys, "evaluate", "--train", train, "--test", test)
    n_test = sum(1 for i, _ in enumerate(planted_ratings()) if not i % 5)
    n_train = len(planted_ratings()) - n_test
    # A progress line first (issue 24: it printed nothing for minutes); the ticker only on a tty.
    assert (code, err) == (
        0,
        f"Evaluating every model on {n_train} training and {n_test} test ratings "
        "(each one is fitted: minutes on a large split)...\n",
    )
    lines = out.splitlines()
    assert lines[0] == (
        f"train {len(planted_ratings()) - n_test} ratings, test {n_test} ratings, "
        "24 users, 11 movies"
    )
    assert lines[1] == "" and lines[2].split() == [
        "model", "RMSE*", "MAE*", "P@10", "NDCG@10", "genres", "pop", "cover", "novel", "fr",
        "fit", "s",
    ]  # fmt: skip
    rows = {}
    for line in lines[3 : lines.index("", 3)]:
        name, numbers = line[:34].strip(), line[34:].split()
        assert len(numbers) == 10, line
        rows[name] = [float(x) for x in numbers if x != "-"]
    assert {"global mean", "movie mean", "tutorial dense CG", "popularity", "ours"} <= set(rows)
    assert all(v >= 0 for values in rows.values() for v in values)
    assert "/similar (item to item)" in out
    assert any(line.startswith("* in stars (0.5-5)") for line in lines)


def test_evaluate_json_parses(split: tuple[str, str], capsys) -> None:
    train, test = split
    code, out, _ = run(capsys, "evaluate", "--train", train, "--test", test, "--json", "--no-dense")
    report = json.loads(out)
    assert code == 0
    assert (report["n_users"], report["n_movies"]) == (24, 11)
    assert report["n_train"] + report["n_test"] == len(planted_ratings())
    names = [m["name"] for m in report["models"]]
    assert {"global mean", "movie mean", "ours"} <= set(names)
    assert "tutorial dense CG" not in names
    for model in report["models"]:
        for key in ("rmse_stars", "mae_stars", "rmse", "mae", "precision_at_10", "ndcg_at_10"):
            if model[key] is None:  # popularity and EASE rank, they predict no ratings
                assert key in ("rmse_stars", "mae_stars", "rmse", "mae"), model["name"]
                continue
            assert 0 <= model[key] < 10, (model["name"], key)


def test_evaluate_missing_files_are_errors(tmp_path: Path, split: tuple[str, str], capsys) -> None:
    train, test = split
    missing = tmp_path / "nope.csv"
    code, out, err = run(capsys, "evaluate", "--train", str(missing), "--test", test)
    assert (code, out, err) == (1, "", f"Error: {missing} is not a file\n")
    code, out, err = run(capsys, "evaluate", "--train", train, "--test", str(tmp_path))
    assert (code, out, err) == (1, "", f"Error: {tmp_path} is not a file\n")
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--train", train])
    assert exit_.value.code == 2
    assert "the following arguments are required: --test" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("user,movie,stars\n1,2,3\n", "expected a userId,movieId,rating header"),
        ("", "expected a userId,movieId,rating header"),
        ("userId,movieId,rating,timestamp\n1,2,abc,5\n", "abc"),
        ("userId,movieId,rating,timestamp\n1,2\n", "malformed ratings"),
        ("userId,movieId,rating,timestamp\n1,2,9,5\n", "within [1, 10]"),
    ],
    ids=["header", "empty", "not-a-number", "short-row", "out-of-range"],
)
def test_evaluate_malformed_csv_is_a_one_line_error(
    tmp_path: Path, split: tuple[str, str], content: str, says: str, capsys
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    code, out, err = run(capsys, "evaluate", "--train", str(bad), "--test", split[1])
    assert (code, out) == (1, "")
    assert err.startswith("Error: ") and err.count("\n") == 1 and says in err


# --- operations: version, run options from the environment, users, stats, backup ------------


def test_version_prints_the_package_version(capsys) -> None:
    from moviebot import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert (exit_.value.code, capsys.readouterr().out) == (0, f"moviebot {__version__}\n")


def run_settings(argv: list[str], environ: dict[str, str]):
    """The BotSettings `moviebot run ARGV` would run with `environ` (no token check, no
    network: the options are only parsed and resolved)."""
    from moviebot.cli import build_parser
    from moviebot.commands.running import bot_settings, resolve_run_options

    args = resolve_run_options(build_parser().parse_args(["run", *argv]), environ)
    return args, bot_settings(args, "123:abc")


def test_the_webhook_url_variable_alone_picks_webhook_mode(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "m.db")]
    args, settings = run_settings(db, {"MOVIEBOT_WEBHOOK_URL": "https://bot.example.org/tg"})
    assert settings.webhook is True and args.webhook_url == "https://bot.example.org/tg"
    _, settings = run_settings(db, {"MOVIEBOT_WEBHOOK_URL": ""})  # systemd's `NAME=`: unset
    assert settings.webhook is False


def test_a_flag_beats_its_variable_which_beats_the_default(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "m.db")]
    environ = {
        "MOVIEBOT_PORT": "9000",
        "MOVIEBOT_REFIT_MINUTES": "5",
        "MOVIEBOT_NO_RATE_LIMIT": "1",
        "MOVIEBOT_METRICS": "127.0.0.1:9464",
        "MOVIEBOT_LOG_FORMAT": "json",
        "MOVIEBOT_MODEL": str(tmp_path / "env.model.npz"),
    }
    args, settings = run_settings([*db, "--port", "9001"], environ)
    assert (args.port, args.listen, args.webhook_path) == (9001, "127.0.0.1", "telegram")
    assert (settings.refit_minutes, settings.rate_limit) == (5.0, False)
    assert (args.metrics, args.log_format) == (("127.0.0.1", 9464), "json")
    assert settings.model_path == tmp_path / "env.model.npz"
    args, settings = run_settings(db, {})
    assert (args.port, settings.refit_minutes, settings.rate_limit, args.metrics) == (
        8443,
        30.0,
        True,
        None,
    )
    assert settings.model_path == tmp_path / "m.model.npz"


def test_run_help_names_every_variable(capsys) -> None:
    from moviebot.options import RUN_OPTIONS

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in RUN_OPTIONS:
        assert f"env {option.env};" in text, option.flag


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MOVIEBOT_PORT", "http", "Error: MOVIEBOT_PORT: expected a port number (1-65535)"),
        ("MOVIEBOT_METRICS", "9464", "Error: MOVIEBOT_METRICS: expected HOST:PORT"),
        ("MOVIEBOT_LOG_FORMAT", "xml", "Error: MOVIEBOT_LOG_FORMAT must be one of text, json"),
        ("MOVIEBOT_NO_RATE_LIMIT", "maybe", "Error: MOVIEBOT_NO_RATE_LIMIT: expected 1 or 0"),
    ],
)
def test_a_bad_variable_is_a_one_line_error_naming_it(
    tmp_path: Path, monkeypatch, capsys, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    code, out, err = run(capsys, "run", "--db", str(tmp_path / "m.db"))
    assert (code, out) == (1, "") and err.startswith(message) and err.count("\n") == 1
    assert not (tmp_path / "m.db").exists()  # refused before anything was opened


def test_users_lists_ids_with_the_most_ratings_first(planted_db: str, capsys) -> None:
    code, out, _ = run(capsys, "users", "--db", planted_db, "--limit", "3")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[0].split()[1:3] == ["11", "ratings"]  # imported users rated 10 or 11 movies
    code, out, _ = run(capsys, "users", "--db", planted_db, "--json", "--limit", "100")
    by_id = {u["user_id"]: u for u in json.loads(out)}
    assert by_id[FAN] == {"user_id": FAN, "name": "Fan", "ratings": 3}
    assert by_id[NEWCOMER]["ratings"] == 0
    # What `users` prints, `recommend --user` accepts.
    _, out, _ = run(capsys, "users", "--db", planted_db, "--limit", "100")
    (fan_id,) = [line.split()[0] for line in out.splitlines() if line.endswith(" Fan")]
    code, out, _ = run(capsys, "recommend", "--db", planted_db, "--user", fan_id)
    assert code == 0 and listed(out)


def test_recommend_years_keeps_to_the_years(planted_db: str, capsys) -> None:
    code, out, _ = run(capsys, "recommend", "--db", planted_db, "--years", "90s", "-n", "10")
    titles = listed(out)
    assert code == 0 and titles
    assert all(1990 <= int(title[-5:-1]) <= 1999 for title in titles), titles
    with pytest.raises(SystemExit):
        main(["recommend", "--db", planted_db, "--years", "soon"])
    assert "expected a year, a decade or a range" in capsys.readouterr().err


def test_stats_prints_readable_text(tutorial_db, tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "stats", "--db", str(tmp_path / "tutorial.db"))
    assert code == 0
    assert out.splitlines() == [
        f"Database {tmp_path / 'tutorial.db'} (schema version {json_stats(tmp_path, capsys)})",
        "  10 movies, 29 ratings",
        "  5 users (0 from Telegram), 0 group pools",
        "  catalog: 10 films up to 2015, never updated from IMDb (`moviebot catalog update`)",
        "  no model fitted yet (`moviebot train`)",
    ]


def json_stats(tmp_path: Path, capsys) -> int:
    _, out, _ = run(capsys, "stats", "--db", str(tmp_path / "tutorial.db"), "--json")
    return json.loads(out)["schema_version"]


def test_backup_into_a_missing_folder_with_a_slash_creates_it(
    tutorial_db, tmp_path: Path, capsys
) -> None:
    target = tmp_path / "backups" / "daily"
    code, out, _ = run(capsys, "backup", "--db", str(tmp_path / "tutorial.db"), f"{target}/")
    assert code == 0 and target.is_dir()
    (written,) = target.iterdir()
    assert written.name.startswith("tutorial-") and written.suffix == ".db"
    assert out == f"Backed up {tmp_path / 'tutorial.db'} to {written}.\n"


def test_evaluate_no_dense_says_it_was_not_run(split: tuple[str, str], capsys) -> None:
    train, test = split
    code, out, _ = run(capsys, "evaluate", "--train", train, "--test", test, "--no-dense")
    assert code == 0 and "tutorial dense CG not run (--no-dense)." in out.splitlines()
    assert not any(line.startswith("tutorial dense CG  ") for line in out.splitlines())  # no row


def test_console_pictures_go_beside_the_database_not_into_this_directory(
    planted_db: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    import io

    here = tmp_path / "elsewhere"
    here.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setattr(sys, "stdin", io.StringIO("/rate Frozen 9\n/rate Heat 2\n/taste\n"))
    code, out, _ = run(capsys, "chat", "--db", planted_db)
    pictures = Path(planted_db).with_name("planted-pictures")
    assert code == 0 and list(here.iterdir()) == []
    assert [p.name for p in pictures.iterdir()] == ["moviebot-taste-1.png"]
    assert str(pictures / "moviebot-taste-1.png") in out


def test_stats_and_health_count_dropped_answers(tutorial_db, tmp_path: Path, capsys) -> None:
    # An owed answer given up after a day is closed (done) with journal.GIVEN_UP: the operator
    # sees how many, beside the abandoned ones (issue 24).
    from storage import journal

    journal.record_updates(tutorial_db, [(7, '{"update_id": 7}')])
    journal.mark_done(tutorial_db, 7, journal.GIVEN_UP)
    code, out, _ = run(capsys, "stats", "--db", str(tmp_path / "tutorial.db"))
    assert code == 0
    assert out.splitlines()[-1] == (
        "  1 answer dropped after a day of failed deliveries (the bot's log says which)"
    )
    _, out, _ = run(capsys, "stats", "--db", str(tmp_path / "tutorial.db"), "--json")
    assert json.loads(out)["dropped_answers"] == 1
