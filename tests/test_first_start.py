"""A fresh database answers at once: the first model is fitted in the background, the
best-rated lists serve until it is swapped in (issue 26)."""

from __future__ import annotations

import dataclasses
import io
import signal
import subprocess
import threading
from pathlib import Path

from telegram.ext import Application

from bot.commands.conversation import Conversation, Sender
from bot.console import ConsoleChat
from bot.service import MovieService
from devtools.app import messages, run_bot
from devtools.bot_process import start_bot
from devtools.fake_telegram.server import FakeTelegram
from moviebot.training import FirstFit
from recommender.best_rated import best_rated
from storage import ratings
from tests.helpers import PATIENCE, until, wait_until

LEARNING_PICKS = (
    "My model is still learning (about a minute); until then these are the best-rated films "
    "overall."
)
LEARNING = "My model is still learning (about a minute); ask me again in a moment."
ANN = 501


class HeldFit:
    """A refit that hands over `model` only when the test lets it (`release`)."""

    def __init__(self, model) -> None:
        self.model = model
        self.released = threading.Event()
        self.calls: list[dict] = []

    def __call__(self, db_path: Path, model_path: Path, **options):
        self.calls.append(options)
        assert self.released.wait(PATIENCE)
        return self.model

    def release(self) -> None:
        self.released.set()


def test_best_rated_orders_the_most_rated_by_damped_mean() -> None:
    # mu = 62 / 7; damping 5 pulls the single 10 (raw mean 10) below two 10s (9.18 > 9.05).
    counts_and_sums = {1: (2, 20), 2: (1, 10), 3: (4, 32)}
    mu = 62 / 7
    got = best_rated(counts_and_sums, [1, 2, 3, 99], 3, damping=5.0)
    assert got == [
        (1, (20 + 5 * mu) / 7),
        (2, (10 + 5 * mu) / 6),
        (3, (32 + 5 * mu) / 9),
    ]
    # Only the `pool` most-rated are ranked: the one-rating film is left out.
    assert [m for m, _ in best_rated(counts_and_sums, [1, 2, 3], 3, pool=2)] == [1, 3]


def test_the_console_answers_rate_and_recommend_before_any_model_then_swaps_it_in(
    service: MovieService, catalog_db, catalog_model, tmp_path: Path
) -> None:
    fresh = MovieService(catalog_db, None)
    fresh._titles = service.titles  # the session's title index (the same catalog)
    out = io.StringIO()
    console = ConsoleChat(Conversation(fresh), Sender(ANN, "Ann", "en"), out, tmp_path)
    held = HeldFit(catalog_model)
    first_fit = FirstFit(held)
    first_fit.start(tmp_path / "db", tmp_path / "model.npz", fresh.offer_model)

    console.handle("/rate Ted 8")
    console.handle("/recommend 3")
    console.handle("/similar toy story")
    before = out.getvalue()
    assert "bot> Ted (2012): 8/10 ✓" in before
    assert ratings.user_ratings(catalog_db, ANN)  # stored, for the model to fold in later
    assert f"bot> {LEARNING_PICKS}" in before
    assert "1. The Shawshank Redemption (1994)" in before
    assert f"bot> {LEARNING}" in before
    assert first_fit.running and held.calls == [{"force": True}]

    held.release()
    first_fit.wait()
    out.truncate(0)
    console.handle("/recommend 3")
    after = out.getvalue()
    assert fresh.model is catalog_model
    assert LEARNING_PICKS not in after
    assert "bot> Your top 3 picks:" in after


def test_onboarding_before_the_model_asks_about_the_most_rated_movies(catalog_db) -> None:
    fresh = MovieService(catalog_db, None)
    popular = fresh.onboarding_movies()
    assert fresh.next_onboarding_movie(ANN, []) == popular[0]
    assert fresh.next_onboarding_movie(ANN, [popular[0]]) == popular[1]


def test_a_bot_without_a_model_answers_and_fits_its_first_model_as_a_refit_job(
    fake_telegram: FakeTelegram, catalog_db, catalog_model, settings
) -> None:
    fresh = MovieService(catalog_db, None)
    held = HeldFit(catalog_model)

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/recommend 3", first_name="Ann")
        first = (await messages(fake_telegram, ANN, 1))[0]["text"]
        assert first.startswith(LEARNING_PICKS)
        held.release()
        await until(lambda: fresh.ready)
        fake_telegram.send_text(ANN, "/recommend 3", first_name="Ann")
        second = (await messages(fake_telegram, ANN, 2))[1]["text"]
        assert not second.startswith(LEARNING_PICKS)

    run_bot(fake_telegram, fresh, dataclasses.replace(settings, refit=held), scenario)
    assert held.calls == [{"force": True}]
    assert fresh.model is catalog_model


def test_moviebot_run_on_a_fresh_database_answers_then_serves_its_first_model(
    fake_telegram: FakeTelegram, catalog_db_path: Path, tmp_path: Path
) -> None:
    model_path = tmp_path / "first.model.npz"
    process = start_bot(
        fake_telegram.url,
        catalog_db_path,
        model_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # The fit takes seconds in its own process; the bot answers without waiting for it.
        update = fake_telegram.send_text(ANN, "/recommend 3", first_name="Ann")
        reply = fake_telegram.wait_for_reply_sync(ANN, after=update, timeout=PATIENCE)
        assert reply["text"].startswith(LEARNING_PICKS)
        wait_until(model_path.exists, timeout=10 * PATIENCE, what="the first fit")
        # Swapped in once loaded: the next answer after that is the model's.
        wait_until(
            lambda: not _recommend(fake_telegram).startswith(LEARNING_PICKS),
            timeout=10 * PATIENCE,
            what="the model served",
        )
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=PATIENCE)
    assert process.returncode == 0, output
    assert "no model yet: the first fit runs now" in output


def _recommend(server: FakeTelegram) -> str:
    update = server.send_text(ANN, "/recommend 3", first_name="Ann")
    return server.wait_for_reply_sync(ANN, after=update, timeout=PATIENCE)["text"]


def test_taste_before_the_model_says_it_is_still_learning(catalog_db, tmp_path: Path) -> None:
    fresh = MovieService(catalog_db, None)
    out = io.StringIO()
    console = ConsoleChat(Conversation(fresh), Sender(ANN, "Ann", "en"), out, tmp_path)
    console.handle("/rate Toy Story 8")
    console.handle("/taste")
    assert LEARNING in out.getvalue()
    assert not list(tmp_path.glob("*.png"))
