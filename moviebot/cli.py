"""The `moviebot` command line: a thin layer that parses arguments, calls the layers, prints.

Library errors become one "Error: ..." line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from moviebot.paths import bundled_dataset
from moviebot.progress import ProgressBar
from storage.db import connect, default_db_path, schema_version
from storage.errors import StorageError
from storage.movielens import import_movielens
from storage.movies import count_movies
from storage.ratings import count_ratings
from storage.search import TitleIndex, clear_winner


class CommandError(Exception):
    """A problem the person running the command can fix; printed as one line."""


def _print(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else text)


def open_db(args: argparse.Namespace) -> Database:
    return connect(Path(args.db))


def ensure_catalog(db: Database) -> None:
    """Import the bundled MovieLens catalog into an empty database."""
    if count_movies(db) == 0:
        print("Importing the bundled MovieLens catalog (first run)...", file=sys.stderr)
        import_movielens(db, bundled_dataset(), ProgressBar())


def cmd_init(args: argparse.Namespace) -> int:
    db = open_db(args)
    summary = None
    if not args.empty:
        summary = import_movielens(db, bundled_dataset(), ProgressBar())
    data = {
        "db": str(args.db),
        "schema_version": schema_version(db),
        "movies": count_movies(db),
        "ratings": count_ratings(db),
        "imported": summary.__dict__ if summary else None,
    }
    _print(
        args,
        data,
        f"Database ready at {args.db}: {data['movies']:,} movies, "
        f"{data['ratings']:,} ratings (schema version {data['schema_version']}).",
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    db = open_db(args)
    summary = import_movielens(db, Path(args.path), ProgressBar())
    _print(
        args,
        summary.__dict__,
        f"Imported {summary.dataset}: {summary.movies_added:,} new movies, "
        f"{summary.users_added:,} new users, {summary.ratings_added:,} new ratings.",
    )
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    db = open_db(args)
    matches = TitleIndex.from_db(db).search(" ".join(args.query), limit=args.limit)
    winner = clear_winner(matches)
    data = [
        {**match.__dict__, "confidence": match.confidence, "clear_winner": match is winner}
        for match in matches
    ]
    if not matches:
        text = "No movie matches that title."
    else:
        lines = [
            f"{'*' if m is winner else ' '} {m.movie_id:>7}  {m.confidence:.2f}  "
            f"{m.n_ratings:>5} ratings  {m.label}"
            for m in matches
        ]
        text = "\n".join(lines)
    _print(args, data, text)
    return 0 if matches else 1


def cmd_stats(args: argparse.Namespace) -> int:
    db = open_db(args)
    data = {
        "db": str(args.db),
        "schema_version": schema_version(db),
        "movies": count_movies(db),
        "ratings": count_ratings(db),
        "users": db.execute("SELECT count(*) FROM users").fetchone()[0],
        "telegram_users": db.execute("SELECT count(*) FROM users WHERE id > 0").fetchone()[0],
        "group_pools": db.execute("SELECT count(DISTINCT chat_id) FROM chat_members").fetchone()[0],
    }
    _print(args, data, "\n".join(f"{key:>15}: {value}" for key, value in data.items()))
    return 0


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

    add("stats", cmd_stats, "Show what the database holds.", "moviebot stats --json", [printing])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (CommandError, StorageError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
