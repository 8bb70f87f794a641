"""The bot the in-process benches drive: a fresh copy of the bundled catalog with a fitted
model, its MovieService, and a FakeTelegram on loopback with the BotSettings that point at it
(no refits; the rate limiter off unless asked for, so the bench measures the bot)::

    with bench_bot() as bench:
        run_bot(bench.server, bench.service, bench.settings, scenario)   # devtools.app
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.service import MovieService
from bot.telegram.app import BotSettings
from devtools.fake_telegram.server import FakeTelegram
from devtools.ptb import TEST_TOKEN
from moviebot.paths import bundled_dataset
from moviebot.training import train
from recommender import Model
from storage.db import connect
from storage.movielens import import_movielens


@dataclass(frozen=True)
class BenchBot:
    db: Database
    service: MovieService
    server: FakeTelegram
    settings: BotSettings


@contextmanager
def bench_bot(**settings: Any) -> Iterator[BenchBot]:
    """The bench's bot in a temporary directory, gone on exit; `settings` replace BotSettings'
    fields (e.g. rate_limit=True)."""
    with tempfile.TemporaryDirectory() as tmp:
        db_path, model_path = Path(tmp) / "bench.db", Path(tmp) / "bench.model.npz"
        db = connect(db_path)
        try:
            import_movielens(db, bundled_dataset())
            train(db_path, model_path)
            service = MovieService(db, Model.load(model_path))
            with FakeTelegram() as server:
                base = BotSettings(
                    token=TEST_TOKEN,
                    db_path=db_path,
                    model_path=model_path,
                    api_url=server.url,
                    refit_minutes=0,
                    rate_limit=False,
                )
                yield BenchBot(db, service, server, dataclasses.replace(base, **settings))
        finally:
            db.close()
