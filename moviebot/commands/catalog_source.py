"""`moviebot catalog update` and `moviebot catalog status`: the catalog from IMDb's datasets.

Registered by moviebot/cli.py's build_parser (`add_catalog_commands`); a failed update is one
"Error: ..." line and exit code 1, like every command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from moviebot.catalog_update import DEFAULT_URL, CatalogUpdateError, update_catalog
from moviebot.progress import ProgressBar
from storage.db import connect
from storage.imdb_catalog import catalog_status


def cmd_catalog_update(args: argparse.Namespace) -> int:
    try:
        outcome = update_catalog(
            Path(args.db),
            url=args.url,
            folder=Path(args.folder) if args.folder else None,
            progress=ProgressBar(),
        )
    except CatalogUpdateError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    _print(args, outcome.to_json(), outcome.line())
    return 0


def cmd_catalog_status(args: argparse.Namespace) -> int:
    db = connect(Path(args.db))
    try:
        status = catalog_status(db)
    finally:
        db.close()
    _print(args, status, status_text(status))
    return 0


def status_text(status: dict[str, Any]) -> str:
    """`moviebot catalog status` for a person."""
    newest = f", newest year {status['newest_year']}" if status["newest_year"] else ""
    lines = [
        f"Catalog: {status['films']:,} films ({status['from_imdb']:,} added from IMDb, "
        f"{status['with_imdb_facts']:,} with IMDb's rating and votes){newest}",
        f"Source: {status['source']}",
    ]
    last, attempt = status["last_update"], status["last_attempt"]
    if last is None:
        lines.append("Never updated from IMDb (`moviebot catalog update` fetches its datasets).")
    else:
        lines.append(
            f"Last update: {last['at'][:16].replace('T', ' ')} UTC from {last['source']} "
            f"({last['films']:,} films, {last['added']:,} new, {last['names']:,} names)"
        )
    if attempt is not None and attempt["status"] != "ok":
        what = attempt["error"] if attempt["status"] == "failed" else "files unchanged"
        lines.append(f"Last check: {attempt['at'][:16].replace('T', ' ')} UTC, {what}")
    lines += [f"Terms: {status['terms']}", status["attribution"]]
    return "\n".join(lines)


def _print(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else text)


def add_catalog_commands(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add `catalog update` and `catalog status` to the `moviebot` subcommands `sub`;
    `parents` give every command's --db and --json."""
    catalog = sub.add_parser(
        "catalog",
        help="Update the film catalog from IMDb's datasets, or show what it holds.",
        description="The film catalog: the bundled MovieLens films plus, once updated, "
        "IMDb's films (its non-commercial datasets, for personal and non-commercial use).",
        epilog="example: moviebot catalog update --db ./moviebot.db",
    )
    commands = catalog.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND")
    update = commands.add_parser(
        "update",
        parents=parents,
        help="Download IMDb's dataset files (only when they changed) and merge their films "
        "into the catalog, all at once or not at all.",
        description="Download IMDb's dataset files (title.basics, title.ratings, title.akas, "
        "title.crew; only when they changed) and merge their films into the catalog in one "
        "transaction: a failed download changes nothing.",
        epilog="example: moviebot catalog update --from ~/Downloads/imdb",
    )
    where = update.add_mutually_exclusive_group()
    where.add_argument(
        "--from",
        dest="folder",
        metavar="DIR",
        help="read the files from this folder (IMDb's file names) instead of downloading",
    )
    where.add_argument(
        "--url", metavar="BASE_URL", help=f"download from this base URL (default {DEFAULT_URL})"
    )
    update.set_defaults(handler=cmd_catalog_update)
    status = commands.add_parser(
        "status",
        parents=parents,
        help="How many films the catalog has, how many from IMDb, the newest year and the "
        "last update.",
        description="How many films the catalog has, how many came from IMDb, the newest "
        "year, the last update, and the terms of IMDb's data.",
        epilog="example: moviebot catalog status --json",
    )
    status.set_defaults(handler=cmd_catalog_status)
