"""`moviebot run` (the Telegram bot) and `moviebot chat` (the same conversation in a terminal)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from moviebot import __version__
from moviebot.commands.common import (
    CommandError,
    duration,
    model_path_of,
    open_db,
    open_service,
)
from moviebot.options import RUN_OPTIONS, OptionError, resolve_all
from moviebot.paths import pictures_dir_for

if TYPE_CHECKING:
    from bot.telegram.app import BotSettings


def cmd_chat(args: argparse.Namespace) -> int:
    import getpass

    from bot.commands.conversation import Conversation, Sender
    from bot.console import ConsoleChat
    from bot.tmdb.client import TmdbConfig
    from bot.tmdb.films import TmdbFilms

    service = open_service(args)
    if (tmdb := TmdbConfig.from_env(os.environ)) is not None:
        service.tmdb = TmdbFilms(tmdb)  # the console shows posters' URLs and films' lines
    sender = Sender(args.user_id, args.name or getpass.getuser().title(), args.language)
    pictures = args.pictures or pictures_dir_for(Path(args.db))
    console = ConsoleChat(Conversation(service), sender, picture_dir=pictures)
    console.run(sys.stdin, interactive=sys.stdin.isatty())
    return 0


def bot_settings(args: argparse.Namespace, token: str) -> BotSettings:
    """What `moviebot run` runs, from its options once flags and environment are resolved
    (`resolve_run_options`)."""
    from bot.telegram.app import BotSettings
    from moviebot.catalog_update import CatalogRefresh
    from moviebot.training import RefitProcess

    return BotSettings(
        token=token,
        db_path=Path(args.db),
        model_path=model_path_of(args),
        api_url=args.api_url,
        refit_minutes=args.refit_minutes,
        refit=RefitProcess(args.log_format),
        # Every --catalog-days (0: never, and the job only takes in a `moviebot catalog
        # update` run beside the bot): the job is bot/telegram/catalog_job.py.
        catalog_refresh=CatalogRefresh(args.catalog_days),
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

    from bot.telegram.app import ALLOWED_UPDATES, build_application
    from bot.telegram.redact import install_excepthook, install_log_filter
    from bot.tmdb.client import TmdbConfig
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
    clean_leftovers(Path(args.db), model_path_of(args))
    service = open_service(args)
    settings = bot_settings(args, token)
    tmdb = TmdbConfig.from_env(os.environ)
    if tmdb is not None:
        install_log_filter(tmdb.token)  # a v3 key travels in URLs: never in a log
        settings = replace(settings, tmdb=tmdb)
    _log_start(settings)
    if args.metrics is not None:
        from bot.telegram import metrics

        host, port = args.metrics
        try:
            metrics.serve(host, port, settings.db_path, settings.model_path)
        except OSError as error:
            raise CommandError(f"cannot serve metrics on {host}:{port}: {error}") from None
        logging.getLogger("moviebot").info("metrics at http://%s:%d/metrics", host, port)
    application = build_application(settings, service)
    _abandon_children_on_stop(application, settings.refit, settings.catalog_refresh)
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


def _abandon_children_on_stop(application, *children) -> None:
    """On SIGTERM or SIGINT, kill a refit or a catalog update in progress (each `children`
    that is not None has `abandon()`), then stop as python-telegram-bot does: its orderly stop
    waits for running jobs, and a big refit or an update outlasts the unit's TimeoutStopSec.
    Installed once the bot runs (post_init), replacing PTB's own handlers."""
    import asyncio
    import signal

    post_init = application.post_init

    def stop() -> None:
        for child in children:
            if child is not None:
                child.abandon()
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
    log.info("model %s, fitted %s ago", settings.model_path, duration(age))
