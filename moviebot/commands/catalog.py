"""`moviebot init`, `import`, `search` and `import-ratings`: the catalog and people's histories."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from moviebot.commands.common import (
    CommandError,
    emit,
    ensure_catalog,
    open_db,
)
from moviebot.paths import bundled_dataset
from moviebot.progress import ProgressBar
from storage.db import schema_version
from storage.movielens import import_movielens
from storage.movies import count_movies
from storage.ratings import count_ratings
from storage.search import TitleIndex, resolve

if TYPE_CHECKING:
    pass


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
    emit(
        args,
        data,
        f"Database ready at {args.db}: {data['movies']:,} movies, "
        f"{data['ratings']:,} ratings (schema version {data['schema_version']}).",
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    db = open_db(args)
    summary = import_movielens(db, Path(args.path), ProgressBar())
    emit(
        args,
        summary.__dict__,
        f"Imported {summary.dataset}: {summary.movies_added:,} new movies, "
        f"{summary.users_added:,} new users, {summary.ratings_added:,} new ratings.",
    )
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    db = open_db(args)
    index, query = TitleIndex.from_db(db), " ".join(args.query)
    matches = index.search(query, limit=args.limit)
    # The bot's pick: what search.resolve takes without asking (none when it would ask).
    taken = resolve(index, query).movie
    winner = next((m for m in matches if taken and m.movie_id == taken.movie_id), None)
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
    emit(args, data, text)
    return 0 if matches else 1


def cmd_import_ratings(args: argparse.Namespace) -> int:
    from bot.files import history_import, history_matching
    from storage import imports
    from storage.users import save_user

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{path} is not a file")
    if path.stat().st_size > history_import.MAX_FILE_BYTES:
        raise CommandError(history_import.too_large_message())
    db = open_db(args)
    ensure_catalog(db)
    try:
        rows = history_import.read_file(path.read_bytes(), path.name)
    except history_import.BadFile as error:
        raise CommandError(str(error)) from None
    matcher = history_matching.CatalogMatcher(db)
    plan = history_import.plan_import(rows, matcher, history_import.current_history(db, args.user))
    lines = history_import.preview_lines(plan, matcher.labels)
    applied = None
    if not args.dry_run and plan.has_changes:
        replace = {m: file for m, (_, file) in plan.different.items()} if args.replace else {}
        save_user(db, args.user)  # only now: a dry run stores nothing, not even the user
        applied = imports.apply_import(db, args.user, plan.new, replace, plan.save, plan.seen)
        lines.append(
            f"Imported for user {args.user}: {applied.rated} new ratings, {applied.replaced} "
            f"replaced, {applied.saved} on the watchlist, {applied.seen} marked seen."
        )
    elif args.dry_run:
        lines.append("Dry run: nothing was stored.")
    else:
        lines.append("Nothing to import: everything usable is there already.")
    data = {
        "user": args.user,
        "file": str(path),
        **plan.report(),
        "applied": applied and applied.__dict__,
    }
    emit(args, data, "\n".join(lines))
    return 0
