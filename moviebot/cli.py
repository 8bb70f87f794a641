"""The `moviebot` command line: a thin layer that parses arguments, calls the layers, prints.

Library errors become one "Error: ..." line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from bot.redact import redact
from moviebot import __version__
from moviebot.options import RUN_OPTIONS, OptionError, non_negative_float, resolve_all
from moviebot.paths import bundled_dataset, model_path_for, pictures_dir_for
from moviebot.progress import FitProgress, ProgressBar
from recommender import RecommenderError
from storage import fits, journal
from storage.db import connect, default_db_path, schema_version
from storage.errors import StorageError
from storage.movielens import import_movielens
from storage.movies import count_movies, get_movie
from storage.ratings import count_ratings
from storage.search import TitleIndex, clear_winner, resolve
from storage.users import get_user

if TYPE_CHECKING:
    from bot.telegram_app import BotSettings


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
    _print(args, data, text)
    return 0 if matches else 1


def _model_path(args: argparse.Namespace) -> Path:
    path = Path(args.model) if getattr(args, "model", None) else model_path_for(Path(args.db))
    if not path.parent.is_dir():
        raise CommandError(f"the model's folder {path.parent} does not exist")
    return path


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
    from bot.parsing import parse_years

    years = parse_years(text)
    if years is None:
        raise argparse.ArgumentTypeError(f"expected a year, a decade or a range, got {text!r}")
    return years


def _service(args: argparse.Namespace):
    """The database (initialised on first use) and the saved model, or a fresh fit."""
    from bot.service import MovieService
    from moviebot.training import load_or_train

    db = open_db(args)
    ensure_catalog(db)
    model_path = _model_path(args)
    if model_path.exists():
        return MovieService(db, load_or_train(Path(args.db), model_path))
    with _fit_progress(Path(args.db), "first run"):
        return MovieService(db, load_or_train(Path(args.db), model_path))


def _fit_progress(db_path: Path, why: str) -> FitProgress:
    """Say that a fit starts, how big it is and how long it usually takes; a progress line
    follows on a terminal."""
    from moviebot.training import expected_fit_seconds

    n_ratings, seconds = expected_fit_seconds(db_path)
    print(
        f"Fitting the model on {n_ratings:,} ratings ({why}; usually about {seconds:.0f} s)...",
        file=sys.stderr,
    )
    return FitProgress(n_ratings, seconds)


def cmd_train(args: argparse.Namespace) -> int:
    from moviebot.training import clean_leftovers, train

    db = open_db(args)
    ensure_catalog(db)
    db.close()
    clean_leftovers(Path(args.db), _model_path(args))
    with _fit_progress(Path(args.db), f"engine {args.engine}"):
        result = train(
            Path(args.db),
            _model_path(args),
            engine=args.engine,
            master=args.master,
            workdir=args.workdir,
        )
    data = {
        "fit_id": result.fit_id,
        "ratings": result.n_ratings,
        "fit_seconds": round(result.seconds, 3),
        "model": str(_model_path(args)),
    }
    _print(
        args,
        data,
        f"Fitted on {result.n_ratings:,} ratings in {result.seconds:.1f} s; "
        f"saved to {data['model']} (fit {result.fit_id}).",
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from recommender.evaluate import evaluate, format_report, load_movielens_ratings

    for path in (args.train, args.test):
        if not Path(path).is_file():
            raise CommandError(f"{path} is not a file")
    report = evaluate(
        load_movielens_ratings(args.train),
        load_movielens_ratings(args.test),
        include_dense_reference=not args.no_dense,
        catalog=_evaluation_catalog(args),
    )
    text = format_report(report)
    if args.no_dense:
        report["dense_reference_skipped"] = "--no-dense"
        text += "\ntutorial dense CG not run (--no-dense)."
    _print(args, report, text)
    return 0


def _evaluation_catalog(args: argparse.Namespace) -> dict | None:
    """Titles and genres for the list figures: ``--movies``, else a movies.csv beside the
    split's folder (MovieLens layout), else none."""
    from recommender.evaluate import load_movielens_catalog

    beside = Path(args.train).resolve().parent.parent / "movies.csv"
    path = Path(args.movies) if args.movies else beside
    if not path.is_file():
        if args.movies:
            raise CommandError(f"{path} is not a file")
        return None
    return load_movielens_catalog(path)


def _resolve(service, title: str) -> int:
    service.find(title, limit=1)  # an empty or over-long title is an InvalidArgument
    resolution = service.resolve(title)
    if resolution.movie is not None:
        return resolution.movie.movie_id
    if not resolution.choices:
        raise CommandError(f"no movie matches {title!r}")
    # The bot's rule: only a strong clear match is acted on; the CLI cannot ask, so it lists.
    why = "ambiguous" if clear_winner(list(resolution.choices)) is None else "not a clear match"
    options = "; ".join(f"{m.label} (id {m.movie_id})" for m in resolution.choices)
    raise CommandError(f"{title!r} is {why}: {options}. Add the year, or use --id.")


def cmd_recommend(args: argparse.Namespace) -> int:
    service = _service(args)
    if args.user is not None:
        get_user(service.db, args.user)  # an unknown user is an error, not a cold start
    picks = service.recommend(
        args.user if args.user is not None else 0, args.n, args.genre, years=args.years
    )
    data = [
        {
            "movie_id": p.movie.id,
            "title": p.movie.label,
            "score": round(p.score, 3),
            "genres": list(p.movie.genres),
            "because": {"movie_id": p.because[0].id, "rating": p.because[1]} if p.because else None,
        }
        for p in picks
    ]
    text = "\n".join(f"{i:>2}. {p.score:4.1f}  {p.movie.label}" for i, p in enumerate(picks, 1))
    _print(args, data, text or "Nothing to recommend.")
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    service = _service(args)
    movie_id = args.id if args.id is not None else _resolve(service, " ".join(args.title))
    movie = get_movie(service.db, movie_id)
    nearest = service.similar(movie_id, args.n)
    data = {
        "movie": {"movie_id": movie.id, "title": movie.label},
        "similar": [
            {"movie_id": m.id, "title": m.label, "fans_also_liked": round(s, 4)} for m, s in nearest
        ],
    }
    lines = [f"Movies like {movie.label}:"] + [
        f"{i:>2}. {s:>4.0%}  {m.label}" for i, (m, s) in enumerate(nearest, 1)
    ]
    _print(
        args, data, "\n".join(lines) if nearest else f"No similar movies known for {movie.label}."
    )
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    import getpass

    from bot.console import ConsoleChat
    from bot.conversation import Conversation, Sender

    service = _service(args)
    sender = Sender(args.user_id, args.name or getpass.getuser().title(), args.language)
    pictures = args.pictures or pictures_dir_for(Path(args.db))
    console = ConsoleChat(Conversation(service), sender, picture_dir=pictures)
    console.run(sys.stdin, interactive=sys.stdin.isatty())
    return 0


def bot_settings(args: argparse.Namespace, token: str) -> BotSettings:
    """What `moviebot run` runs, from its options once flags and environment are resolved
    (`resolve_run_options`)."""
    from bot.telegram_app import BotSettings
    from moviebot.training import RefitProcess

    return BotSettings(
        token=token,
        db_path=Path(args.db),
        model_path=_model_path(args),
        api_url=args.api_url,
        refit_minutes=args.refit_minutes,
        refit=RefitProcess(args.log_format),
        rate_limit=not args.no_rate_limit,
        webhook=bool(args.webhook_url),
    )


def resolve_run_options(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> argparse.Namespace:
    """Every `run` option from its flag, else its MOVIEBOT_<FLAG> variable, else its default."""
    try:
        return resolve_all(args, RUN_OPTIONS, os.environ if environ is None else environ)
    except OptionError as error:
        raise CommandError(str(error)) from None


def cmd_run(args: argparse.Namespace) -> int:
    import logging

    from telegram.error import InvalidToken, NetworkError

    from bot.redact import install_excepthook, install_log_filter
    from bot.telegram_app import ALLOWED_UPDATES, build_application
    from moviebot.logs import configure_logging
    from moviebot.training import clean_leftovers

    resolve_run_options(args)
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise CommandError(
            "TELEGRAM_BOT_TOKEN is not set (get one from @BotFather); "
            "`moviebot chat` runs the bot in this terminal without one"
        )
    secret = os.environ.get("MOVIEBOT_WEBHOOK_SECRET") or None
    if args.webhook_url and not secret:
        raise CommandError(
            "MOVIEBOT_WEBHOOK_SECRET is not set; webhook mode needs it "
            "(1-256 characters: A-Z a-z 0-9 _ -)"
        )
    configure_logging(args.log_format)
    install_log_filter(token)
    install_excepthook()
    for handler in logging.getLogger().handlers:
        handler.addFilter(_StartFailureFilter(InvalidToken, NetworkError))
    open_db(args).close()  # created and migrated before the clean-up reads it
    clean_leftovers(Path(args.db), _model_path(args))
    service = _service(args)
    settings = bot_settings(args, token)
    _log_start(settings)
    if args.metrics is not None:
        from bot import metrics

        host, port = args.metrics
        try:
            metrics.serve(host, port, settings.db_path, settings.model_path)
        except OSError as error:
            raise CommandError(f"cannot serve metrics on {host}:{port}: {error}") from None
        logging.getLogger("moviebot").info("metrics at http://%s:%d/metrics", host, port)
    application = build_application(settings, service)
    _abandon_refit_on_stop(application, settings.refit)
    try:
        if args.webhook_url:
            application.run_webhook(
                listen=args.listen,
                port=args.port,
                url_path=args.webhook_path.lstrip("/"),
                webhook_url=args.webhook_url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            application.run_polling(timeout=settings.poll_timeout, allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:  # 401 from getMe at start; PTB's message holds the token
        _close_http(application.bot)
        raise CommandError("Telegram rejected the token (check TELEGRAM_BOT_TOKEN)") from None
    except NetworkError:  # connection refused, DNS, timeout: before the first update
        _close_http(application.bot)
        api_url = (args.api_url or "https://api.telegram.org").rstrip("/")
        raise CommandError(f"cannot reach the Telegram Bot API at {api_url}") from None
    return 0


def _abandon_refit_on_stop(application, refit) -> None:
    """On SIGTERM or SIGINT, kill a refit in progress, then stop as python-telegram-bot does:
    its orderly stop waits for running jobs, and a big refit outlasts the unit's
    TimeoutStopSec. Installed once the bot runs (post_init), replacing PTB's own handlers."""
    import asyncio
    import signal

    post_init = application.post_init

    def stop() -> None:
        refit.abandon()
        application.stop_running()

    async def post_init_then_handle_signals(app) -> None:
        if post_init is not None:
            await post_init(app)
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop)

    application.post_init = post_init_then_handle_signals


class _StartFailureFilter:
    """Drop PTB's traceback of a start that failed on the token or the network: `cmd_run`
    turns exactly those exceptions into one "Error: ..." line."""

    def __init__(self, *kinds: type[BaseException]) -> None:
        self.kinds = kinds

    def filter(self, record) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        starting = "(Bootstrap Initialize Application)" in str(record.msg)
        return not (
            starting and record.name.startswith("telegram") and isinstance(error, self.kinds)
        )


def _close_http(bot) -> None:
    """Close the HTTP sessions of a bot whose start failed (PTB shuts down only a started bot,
    and aiohttp would complain about the open sessions at exit)."""
    import asyncio

    requests = {id(r): r for r in (bot.request, *getattr(bot, "_request", ()))}.values()

    async def close() -> None:
        await asyncio.gather(*(request.shutdown() for request in requests))

    asyncio.run(close())


def _log_start(settings: BotSettings) -> None:
    """The version, how updates arrive and how old the model is, as the first log lines."""
    import logging

    log = logging.getLogger("moviebot")
    mode = "webhook" if settings.webhook else "long polling"
    log.info("moviebot %s starting (%s; database %s)", __version__, mode, settings.db_path)
    age = time.time() - settings.model_path.stat().st_mtime
    log.info("model %s, fitted %s ago", settings.model_path, _duration(age))


def _duration(seconds: float) -> str:
    """A rough human duration: 42 s, 17 min, 5.2 h, 3.0 days."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def cmd_users(args: argparse.Namespace) -> int:
    from storage.users import list_users

    people = list_users(open_db(args), args.limit)
    data = [{"user_id": u.id, "name": u.display_name, "ratings": u.n_ratings} for u in people]
    lines = [f"{u.id:>12}  {u.n_ratings:>6,} ratings  {u.display_name or ''}" for u in people]
    _print(args, data, "\n".join(lines) or "No users yet.")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """Exit 0 when the bot can serve; else 1 with one line saying why (a container's
    HEALTHCHECK, a monitoring probe)."""
    import sqlite3

    from recommender import Model
    from recommender.errors import ModelFileError
    from storage import journal
    from storage.db import connect_read_only, seconds_since

    resolve_all(args, RUN_OPTIONS[:1], os.environ)  # --model / MOVIEBOT_MODEL, as `run`
    db_path, model_path = Path(args.db), _model_path(args)

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
            f"an update has waited {_duration(waited)} (limit {args.max_open_minutes:g} min); "
            f"{backlog.open} not done"
        )
    age = _duration(time.time() - model_path.stat().st_mtime)
    print(
        f"healthy: database {db_path}, model fitted {age} ago, {backlog.open} update(s) "
        f"in progress, {backlog.abandoned} abandoned"
    )
    return 0


def cmd_import_ratings(args: argparse.Namespace) -> int:
    from bot import history_import
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
    matcher = history_import.CatalogMatcher(db)
    save_user(db, args.user)
    plan = history_import.plan_import(rows, matcher, history_import.current_history(db, args.user))
    lines = history_import.preview_lines(plan, matcher.labels)
    applied = None
    if not args.dry_run and plan.has_changes:
        replace = {m: file for m, (_, file) in plan.different.items()} if args.replace else {}
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
    _print(args, data, "\n".join(lines))
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
    last = fits.last_successful_fit(db)
    data["last_fit"] = (
        {"at": last.finished_at, "ratings": last.n_ratings, **last.scores} if last else None
    )
    _print(args, data, _stats_text(data))
    return 0


def _stats_text(data: dict[str, Any]) -> str:
    """`moviebot stats` for a person: what the database holds and the last fit."""
    lines = [
        f"Database {data['db']} (schema version {data['schema_version']})",
        f"  {data['movies']:,} movies, {data['ratings']:,} ratings",
        f"  {data['users']:,} users ({data['telegram_users']:,} from Telegram), "
        f"{data['group_pools']:,} group pools",
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


def cmd_backup(args: argparse.Namespace) -> int:
    from storage.backup import backup_database

    # Not open_db: a backup of a database that does not exist must not create one.
    if args.target.endswith(("/", os.sep)) and Path(args.db).is_file():
        # "DIR/" means a folder (Path() would drop the slash and write a file named DIR).
        Path(args.target).mkdir(parents=True, exist_ok=True)
    path = backup_database(Path(args.db), Path(args.target), overwrite=args.overwrite)
    _print(args, {"db": str(args.db), "backup": str(path)}, f"Backed up {args.db} to {path}.")
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

    from moviebot.catalog_cli import add_catalog_commands  # catalog update / status

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
        return args.handler(args)
    except (CommandError, StorageError, RecommenderError) as error:
        print(f"Error: {redact(str(error))}", file=sys.stderr)
        return 1
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
