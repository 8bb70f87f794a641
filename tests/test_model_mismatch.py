"""A model that knows movies the database lacks (a backup restored beside a newer model):
the bot skips them, says so in the log once, and the next refit runs even with no new rating."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace

from bot.commands.conversation import Chat, Conversation, Sender
from bot.service import MovieService
from bot.telegram.app import Refitter
from bot.ui.html import to_plain
from moviebot.training import refit_if_changed, train
from recommender import Model
from storage import chats, ratings, users

ANN = Sender(3001, "Ann")


def _drop_movie(service: MovieService, movie_id: int) -> None:
    """What an older backup looks like: the catalog without this movie."""
    service.db.execute("DELETE FROM ratings WHERE movie_id = ?", [movie_id])
    service.db.execute("DELETE FROM movies WHERE id = ?", [movie_id])


def test_recommend_skips_movies_the_database_lacks_and_asks_for_a_refit(
    service: MovieService, caplog
) -> None:
    conversation = Conversation(service)
    first = service.recommend(ANN.user_id, 10)
    gone = [first[0].movie.id, first[3].movie.id]
    for movie_id in gone:
        _drop_movie(service, movie_id)
    service.swap_model(service.model)  # as after a restart: nothing cached from before
    caplog.set_level(logging.WARNING, logger="bot.service")
    for _ in range(3):
        text = "\n".join(
            r.text for r in conversation.on_text(ANN, Chat(3001), "/recommend").replies
        )
        assert to_plain(text).startswith("You haven't rated anything yet")
        assert first[0].movie.label not in text and first[3].movie.label not in text
    picks = service.recommend(ANN.user_id, 10)
    assert len(picks) == 10 and not {p.movie.id for p in picks} & set(gone)
    warnings = [r for r in caplog.records if "the database lacks" in r.getMessage()]
    assert len(warnings) == 1  # once per model, not once per request
    assert service.refit_wanted is True


def test_group_picks_skip_movies_the_database_lacks(service: MovieService) -> None:
    for user_id in (3001, 3002):
        users.save_user(service.db, user_id, f"user {user_id}")
        ratings.set_rating(service.db, user_id, 1, 9)
        chats.join_pool(service.db, -3000, user_id)
    first = service.group_picks([3001, 3002], 5)
    _drop_movie(service, first[0].movie.id)
    service.swap_model(service.model)
    text = Conversation(service).on_text(ANN, Chat(-3000, False), "/grouprec 5").replies[0].text
    assert first[0].movie.label not in text
    assert first[1].movie.label in text


def test_a_refit_is_forced_when_the_model_does_not_match(tmp_path: Path, tutorial_db) -> None:
    db_path = Path(tutorial_db.execute("PRAGMA database_list").fetchone()[2])
    model_path = tmp_path / "tutorial.model.npz"
    train(db_path, model_path)
    assert refit_if_changed(db_path, model_path) is None  # no rating changed
    assert isinstance(refit_if_changed(db_path, model_path, force=True), Model)


def test_the_refit_job_passes_force_when_the_service_asks(tmp_path: Path, tutorial_db) -> None:
    calls = []

    def refit(db_path, model_path, **options):
        calls.append(options)
        return None

    db_path = Path(tutorial_db.execute("PRAGMA database_list").fetchone()[2])
    service = MovieService(tutorial_db, train(db_path, tmp_path / "tutorial.model.npz").model)

    async def run(function, *args):
        return function(*args)

    refitter = Refitter(SimpleNamespace(db_path="db", model_path="model", refit=refit))
    runtime = SimpleNamespace(service=service, run=run)
    asyncio.run(refitter.refit(runtime))
    service.refit_wanted = True
    asyncio.run(refitter.refit(runtime))
    assert calls == [{}, {"force": True}]
