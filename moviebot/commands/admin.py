"""`moviebot users`, `health`, `stats` and `backup`: looking after a running bot."""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moviebot.commands.common import (
    duration,
    emit,
    model_path_of,
    open_db,
)
from moviebot.options import RUN_OPTIONS, resolve_all
from storage import fits, journal
from storage.db import schema_version
from storage.imdb_catalog import catalog_status
from storage.movies import count_movies
from storage.ratings import count_ratings

if TYPE_CHECKING:
    pass


def cmd_users(args: argparse.Namespace) -> int:
    from storage.users import list_users

    people = list_users(open_db(args), args.limit)
    data = [{"user_id": u.id, "name": u.display_name, "ratings": u.n_ratings} for u in people]
    lines = [f"{u.id:>12}  {u.n_ratings:>6,} ratings  {u.display_name or ''}" for u in people]
    emit(args, data, "\n".join(lines) or "No users yet.")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """Exit 0 when the bot can serve; else 1 with one line saying why (a container's
    HEALTHCHECK, a monitoring probe)."""

    from recommender import Model
    from recommender.errors import ModelFileError
    from storage import journal
    from storage.db import connect_read_only, seconds_since

    resolve_all(args, RUN_OPTIONS[:1], os.environ)  # --model / MOVIEBOT_MODEL, as `run`
    db_path, model_path = Path(args.db), model_path_of(args)

    def unhealthy(why: str) -> int:
        print(f"unhealthy: {why}")
        return 1

    if not db_path.is_file():
        return unhealthy(f"no database at {db_path}")
    try:
        db = connect_read_only(db_path)
        try:
            backlog = journal.backlog(db, journal.MAX_ATTEMPTS)
        finally:
            db.close()
    except sqlite3.Error as error:
        return unhealthy(f"cannot read the database {db_path}: {error}")
    try:
        Model.load(model_path)
    except ModelFileError as error:
        return unhealthy(f"the model does not load: {error}")
    waited = seconds_since(backlog.oldest_received_at)
    if waited > args.max_open_minutes * 60:
        return unhealthy(
            f"an update has waited {duration(waited)} (limit {args.max_open_minutes:g} min); "
            f"{backlog.open} not done"
        )
    age = duration(time.time() - model_path.stat().st_mtime)
    print(
        f"healthy: database {db_path}, model fitted {age} ago, {backlog.open} update(s) "
        f"in progress, {backlog.abandoned} abandoned"
    )
    return 0


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
        "abandoned_updates": journal.backlog(db, journal.MAX_ATTEMPTS).abandoned,
    }
    catalog = catalog_status(db)
    data["catalog"] = {
        "films": catalog["films"],
        "newest_year": catalog["newest_year"],
        "updated": catalog["last_update"]["at"] if catalog["last_update"] else None,
    }
    last = fits.last_successful_fit(db)
    data["last_fit"] = (
        {"at": last.finished_at, "ratings": last.n_ratings, **last.scores} if last else None
    )
    emit(args, data, _stats_text(data))
    return 0


def _stats_text(data: dict[str, Any]) -> str:
    """`moviebot stats` for a person: what the database holds and the last fit."""
    lines = [
        f"Database {data['db']} (schema version {data['schema_version']})",
        f"  {data['movies']:,} movies, {data['ratings']:,} ratings",
        f"  {data['users']:,} users ({data['telegram_users']:,} from Telegram), "
        f"{data['group_pools']:,} group pools",
        _catalog_line(data["catalog"]),
    ]
    last = data["last_fit"]
    if last is None:
        lines.append("  no model fitted yet (`moviebot train`)")
    else:
        seconds = last.get("fit_seconds")
        took = f" in {seconds:.1f} s" if isinstance(seconds, int | float) else ""
        lines.append(f"  last fit {last['at']} on {last['ratings']:,} ratings{took}")
    abandoned = data["abandoned_updates"]
    if abandoned:
        lines.append(
            f"  {abandoned:,} update{'s' if abandoned != 1 else ''} abandoned after failed "
            "deliveries (the bot's log says which)"
        )
    return "\n".join(lines)


def _catalog_line(catalog: dict[str, Any]) -> str:
    films, newest, updated = catalog["films"], catalog["newest_year"], catalog["updated"]
    up_to = f"{films:,} film{'s' if films != 1 else ''}" + (f" up to {newest}" if newest else "")
    if updated is None:
        return f"  catalog: {up_to}, never updated from IMDb (`moviebot catalog update`)"
    return f"  catalog: {up_to}, updated from IMDb {updated[:10]}"


def cmd_backup(args: argparse.Namespace) -> int:
    from storage.backup import backup_database

    # Not open_db: a backup of a database that does not exist must not create one.
    if args.target.endswith(("/", os.sep)) and Path(args.db).is_file():
        # "DIR/" means a folder (Path() would drop the slash and write a file named DIR).
        Path(args.target).mkdir(parents=True, exist_ok=True)
    path = backup_database(Path(args.db), Path(args.target), overwrite=args.overwrite)
    emit(args, {"db": str(args.db), "backup": str(path)}, f"Backed up {args.db} to {path}.")
    return 0
