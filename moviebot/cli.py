"""The `moviebot` command line: a thin layer that parses arguments, calls the layers, prints.

This module is the parser and `main`; the commands are in moviebot/commands/, grouped by what
they look after. Library errors become one "Error: ..." line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.telegram.redact import redact
from moviebot import __version__
from moviebot.commands.admin import cmd_backup, cmd_health, cmd_stats, cmd_users
from moviebot.commands.catalog import cmd_import, cmd_import_ratings, cmd_init, cmd_search
from moviebot.commands.catalog_source import add_catalog_commands
from moviebot.commands.common import CommandError
from moviebot.commands.model import cmd_evaluate, cmd_recommend, cmd_similar, cmd_train
from moviebot.commands.running import cmd_chat, cmd_run
from moviebot.options import RUN_OPTIONS, non_negative_float
from recommender import RecommenderError
from storage.db import default_db_path
from storage.errors import StorageError


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def release_years(text: str) -> tuple[int, int]:
    """argparse type: release years as the bot reads them (1994, 90s, 1990s, 1990-2005)."""
    from bot.commands.parsing import parse_years

    years = parse_years(text)
    if years is None:
        raise argparse.ArgumentTypeError(f"expected a year, a decade or a range, got {text!r}")
    return years


Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        type=Path,
        default=default_db_path(),
        help="the SQLite database (default: $MOVIEBOT_DB or %(default)s)",
    )
    printing = argparse.ArgumentParser(add_help=False)
    printing.add_argument("--json", action="store_true", help="print JSON for scripts")

    parser = argparse.ArgumentParser(
        prog="moviebot",
        description="A movie-recommendation chat bot: rate movies, get recommendations.",
        epilog="Start with `moviebot init`, then `moviebot chat` (or `moviebot run` with "
        "TELEGRAM_BOT_TOKEN set).",
    )
    parser.add_argument("--version", action="version", version=f"moviebot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str, example: str, parents=()) -> Any:
        command = sub.add_parser(
            name,
            parents=[common, *parents],
            help=help_text,
            description=help_text,
            epilog=f"example: {example}",
        )
        command.set_defaults(handler=handler)
        return command

    init = add(
        "init",
        cmd_init,
        "Create the database and import the bundled MovieLens catalog.",
        "moviebot init --db ./moviebot.db",
        [printing],
    )
    init.add_argument("--empty", action="store_true", help="create the schema only")

    imp = add(
        "import",
        cmd_import,
        "Import a MovieLens-format folder or zip (movies.csv, ratings.csv, links.csv).",
        "moviebot import ~/Downloads/ml-25m.zip",
        [printing],
    )
    imp.add_argument("path", help="folder or zip")

    search = add(
        "search",
        cmd_search,
        "Find movies by (part of) their title; * marks the one the bot would pick.",
        "moviebot search cinderella 2015",
        [printing],
    )
    search.add_argument("query", nargs="+", help="what a person would type")
    search.add_argument("--limit", type=int, default=5, help="how many candidates (default 5)")

    model_option = argparse.ArgumentParser(add_help=False)
    model_option.add_argument(
        "--model", help="the model file (default: next to the database, NAME.model.npz)"
    )

    train_command = add(
        "train",
        cmd_train,
        "Fit the model on every rating in the database and save it.",
        "moviebot train --engine spark --master spark://head:7077 --workdir hdfs:///tmp/mb",
        [printing, model_option],
    )
    train_command.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help="fit here (default) or on Apache Spark (needs moviebot[spark] and Java 17)",
    )
    train_command.add_argument(
        "--master", default="local[2]", help="Spark master URL (default local[2])"
    )
    train_command.add_argument(
        "--workdir", help="Spark scratch folder every executor can read (needed with a cluster)"
    )

    evaluate = add(
        "evaluate",
        cmd_evaluate,
        "Score the models on a MovieLens-format train/test split (RMSE, MAE, P@10, NDCG@10).",
        "moviebot evaluate --train split/train.csv --test split/test.csv",
        [printing],
    )
    evaluate.add_argument("--train", required=True, help="ratings.csv-format training ratings")
    evaluate.add_argument("--test", required=True, help="ratings.csv-format test ratings")
    evaluate.add_argument(
        "--no-dense", action="store_true", help="skip the slow dense tutorial reference"
    )
    evaluate.add_argument(
        "--movies",
        help="movies.csv for titles and genres (franchise rule, genre figures, cold start); "
        "default: the movies.csv beside the split's folder, if there is one",
    )

    recommend = add(
        "recommend",
        cmd_recommend,
        "Top predicted movies for a user (best-rated overall without --user).",
        "moviebot recommend --user 123456789 -n 5",
        [printing, model_option],
    )
    recommend.add_argument("--user", type=int, help="a user id from the database")
    recommend.add_argument("-n", type=positive_int, default=10, help="how many (default 10)")
    recommend.add_argument("--genre", help="only this genre, e.g. Comedy")
    recommend.add_argument(
        "--years", type=release_years, help="only movies from these years: 1994, 90s, 1990-2005"
    )

    similar = add(
        "similar",
        cmd_similar,
        "Movies closest to a movie in the model's learned features.",
        "moviebot similar toy story",
        [printing, model_option],
    )
    similar.add_argument("title", nargs="*", help="the movie's title")
    similar.add_argument("--id", type=int, help="the movie's id instead of a title")
    similar.add_argument("-n", type=positive_int, default=10, help="how many (default 10)")

    chat = add(
        "chat",
        cmd_chat,
        "Chat with the bot in this terminal (or from piped input, one message per line).",
        "printf '/rate Ted 8\\n/recommend 3\\n' | moviebot chat",
        [model_option],
    )
    chat.add_argument("--user-id", type=int, default=1, help="who you are (default 1)")
    chat.add_argument("--name", help="your name in the chat")
    chat.add_argument(
        "--language",
        choices=["en", "es", "ru"],
        default="en",
        help="the language your Telegram would be set to (default en; /language changes it)",
    )
    chat.add_argument(
        "--pictures",
        type=Path,
        help="where /taste and /map write their PNG files "
        "(default: a pictures folder beside the database, NAME-pictures/)",
    )

    run = add(
        "run",
        cmd_run,
        "Run the Telegram bot (token from TELEGRAM_BOT_TOKEN): long polling, or a webhook. "
        "Every option can come from the environment: MOVIEBOT_<OPTION>, e.g. "
        "MOVIEBOT_WEBHOOK_URL; a flag beats its variable, an empty variable counts as unset.",
        "TELEGRAM_BOT_TOKEN=123:abc moviebot run --refit-minutes 30",
    )
    for option in RUN_OPTIONS:
        option.add_to(run)

    backup = add(
        "backup",
        cmd_backup,
        "Copy the database consistently, also while the bot is running (SQLite online backup).",
        "moviebot backup /var/backups/moviebot/",
        [printing],
    )
    backup.add_argument("target", help="a file, or a directory: it gets NAME-YYYYmmddTHHMMSSZ.db")
    backup.add_argument("--overwrite", action="store_true", help="replace an existing file")

    import_ratings = add(
        "import-ratings",
        cmd_import_ratings,
        "Import a user's IMDb or Letterboxd export (ratings CSV, watchlist CSV, or the zip); "
        "the format is read from the header. Scores already there and different are kept "
        "unless --replace.",
        "moviebot import-ratings --user 123456789 ~/Downloads/letterboxd-export.zip",
        [printing],
    )
    import_ratings.add_argument("file", help="the export file (CSV or zip)")
    import_ratings.add_argument("--user", type=int, required=True, help="the user's id")
    import_ratings.add_argument(
        "--replace", action="store_true", help="the file's score wins where they differ"
    )
    import_ratings.add_argument(
        "--dry-run", action="store_true", help="only show what would be imported"
    )

    add_catalog_commands(sub, [common, printing])
    add("stats", cmd_stats, "Show what the database holds.", "moviebot stats --json", [printing])
    health = add(
        "health",
        cmd_health,
        "Check that the bot can serve: the database opens, the model loads, no update has "
        "waited too long. Exit 0, or 1 with one line saying why.",
        "moviebot health --max-open-minutes 10",
    )
    health.add_argument(
        "--model", default=None, help="the model file (env MOVIEBOT_MODEL; default: as `run`)"
    )
    health.add_argument(
        "--max-open-minutes",
        type=non_negative_float,
        default=10.0,
        help="unhealthy when an update has waited longer than this (default 10)",
    )
    users = add(
        "users",
        cmd_users,
        "List the users there are (Telegram ids > 0, imported ones < 0) with their ratings.",
        "moviebot users --limit 3",
        [printing],
    )
    users.add_argument(
        "--limit", type=positive_int, default=20, help="how many, most ratings first (default 20)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not in Python's exit
        return code
    except (CommandError, StorageError, RecommenderError) as error:
        print(f"Error: {redact(str(error))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Output piped into `head` and the like, which stopped reading: exit quietly, as
        # other tools do, and keep Python from reporting the pipe again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, the status of a tool the pipe ended
    except OSError as error:  # a path that cannot be made, read or written; the network
        print(f"Error: {redact(_describe_os_error(error))}", file=sys.stderr)
        return 1
    except sqlite3.Error as error:  # not a database, a locked or read-only one
        print(f"Error: the database: {redact(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _describe_os_error(error: OSError) -> str:
    """ "No such file or directory: /proc/x" rather than "[Errno 2] ... '/proc/x'"."""
    if error.strerror and error.filename is not None:
        return f"{error.strerror}: {error.filename}"
    return error.strerror or str(error) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
