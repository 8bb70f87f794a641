"""The running bot's catalog job (bot/telegram/catalog_job.py) as `moviebot run` wires it: an
update through the real update code is taken in (the title index rebuilt and swapped, so a
/rate of a new film resolves), and a refit follows because the catalog changed."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from bot.telegram.app import build_application, catalog_now
from devtools.imdb_files import write_realistic
from moviebot.catalog_update import update_catalog
from moviebot.cli import build_parser
from moviebot.commands.running import bot_settings, resolve_run_options
from moviebot.training import refit_needed
from storage import fits
from storage.db import connect
from storage.imdb_catalog import ID_OFFSET
from tests.helpers import ANN, PRIVATE, Talk

OPPENHEIMER = ID_OFFSET + 15398776


@pytest.fixture(scope="module")
def imdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_realistic(tmp_path_factory.mktemp("imdb"))


def record_a_fit(db_path: Path) -> None:
    """A finished fit of the ratings as they are: nothing for a refit to pick up."""
    db = connect(db_path)
    try:
        fit_id = fits.start_fit(db, 1)
        fits.finish_fit(db, fit_id, n_users=1, n_movies=1, scores={}, model_path="x")
    finally:
        db.close()


def test_an_update_is_taken_in_and_a_refit_follows(settings, service, imdb_dir: Path) -> None:
    record_a_fit(settings.db_path)
    assert refit_needed(settings.db_path) is False
    refits, refreshes = [], []

    def refit(db_path: Path, model_path: Path, **options):
        refits.append((refit_needed(db_path), options))
        return None  # what a refit that failed to start looks like: the old model stays

    def refresh(db_path: Path) -> str:
        refreshes.append(db_path)
        return update_catalog(db_path, folder=imdb_dir).line()

    wired = dataclasses.replace(settings, refit=refit, refit_minutes=30, catalog_refresh=refresh)
    application = build_application(wired, service)
    jobs = {job.name: job for job in application.job_queue.jobs()}
    assert "catalog_job" in jobs
    rt = application.bot_data.runtime
    ann = Talk(rt.conversation, ANN, PRIVATE)
    assert "couldn't find" in ann.text("/rate Oppenheimer 9")

    async def scenario() -> tuple[bool, bool]:
        try:
            first = await catalog_now(application)
            again = await catalog_now(application)  # the same files: nothing new to take in
            return first, again
        finally:
            await rt.stop()

    assert asyncio.run(scenario()) == (True, False)
    assert refreshes == [settings.db_path, settings.db_path]
    assert refits == [(True, {})]  # asked for once, and the catalog change is its reason
    assert ann.text("/rate Oppenheimer 9") == "Oppenheimer (2023): 9/10 ✓"
    assert service.coverage.newest_year == 2026 and service.coverage.updated is not None


def test_an_update_made_beside_the_bot_is_taken_in_too(settings, service, imdb_dir) -> None:
    """`moviebot catalog update` run by the operator while the bot runs (no schedule: 0 days)."""
    application = build_application(
        dataclasses.replace(settings, catalog_refresh=lambda db_path: None), service
    )
    rt = application.bot_data.runtime
    update_catalog(settings.db_path, folder=imdb_dir)

    async def scenario() -> bool:
        try:
            return await catalog_now(application)
        finally:
            await rt.stop()

    assert asyncio.run(scenario()) is True
    assert service.resolve("Oppenheimer").movie.movie_id == OPPENHEIMER


def test_moviebot_run_wires_the_schedule_from_catalog_days(tmp_path: Path) -> None:
    parser = build_parser()
    args = parser.parse_args(["run", "--db", str(tmp_path / "x.db")])
    resolve_run_options(args, {"MOVIEBOT_CATALOG_DAYS": "0"})
    assert bot_settings(args, "token").catalog_refresh.days == 0
    args = parser.parse_args(["run", "--db", str(tmp_path / "x.db"), "--catalog-days", "2.5"])
    resolve_run_options(args, {})
    assert bot_settings(args, "token").catalog_refresh.days == 2.5
