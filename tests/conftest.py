"""Shared fixtures: real SQLite databases in temporary files, never mocks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlite_utils import Database

from devtools.ptb import TEST_TOKEN
from devtools.tutorial import write_movielens_folder
from moviebot.paths import bundled_dataset
from storage.db import connect
from storage.movielens import import_movielens

# The loopback Bot API server (fixture `fake_telegram`), for every test module.
pytest_plugins = ["devtools.fixtures"]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    """An empty, migrated database in a temp file."""
    database = connect(tmp_path / "test.db")
    yield database
    database.close()


@pytest.fixture
def tutorial_dir(tmp_path: Path) -> Path:
    return write_movielens_folder(tmp_path / "tutorial")


@pytest.fixture
def tutorial_db(tmp_path: Path, tutorial_dir: Path) -> Database:
    """The tutorial's 10 movies and 5 users' ratings, imported the way a user would."""
    database = connect(tmp_path / "tutorial.db")
    import_movielens(database, tutorial_dir)
    yield database
    database.close()


@pytest.fixture(scope="session")
def _catalog_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalog") / "catalog.db"
    database = connect(path)
    import_movielens(database, bundled_dataset())
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def catalog_db_path(tmp_path: Path, _catalog_template: Path) -> Path:
    """A private copy of a database holding the whole bundled MovieLens catalog."""
    path = tmp_path / "catalog.db"
    shutil.copyfile(_catalog_template, path)
    return path


@pytest.fixture
def catalog_db(catalog_db_path: Path) -> Database:
    database = connect(catalog_db_path)
    yield database
    database.close()


@pytest.fixture(scope="session")
def catalog_model_path(_catalog_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model fitted once on the bundled catalog (about a second)."""
    from moviebot.training import train

    folder = tmp_path_factory.mktemp("model")
    db_copy = folder / "catalog.db"
    shutil.copyfile(_catalog_template, db_copy)
    path = folder / "catalog.model.npz"
    train(db_copy, path)
    return path


@pytest.fixture
def service(catalog_db: Database, catalog_model_path: Path):
    """The bot's service on a private copy of the catalog with the session's model."""
    from bot.service import MovieService
    from recommender import Model

    return MovieService(catalog_db, Model.load(catalog_model_path))


@pytest.fixture
def settings(fake_telegram, catalog_db_path: Path, catalog_model_path: Path):
    """Bot settings pointing at the loopback Bot API server and a private catalog copy."""
    from bot.telegram.app import BotSettings

    return BotSettings(
        token=TEST_TOKEN,
        db_path=catalog_db_path,
        model_path=catalog_model_path,
        api_url=fake_telegram.url,
        refit_minutes=0,  # tests trigger refits themselves
    )


@pytest.fixture(scope="session")
def shared_fit():
    """The default model fitted on the shared split's train.csv, with train and test (skips
    when the split is absent); fitted once for every test module that scores the split."""
    import numpy as np

    from devtools.paths import shared_split
    from recommender import Model
    from recommender.evaluate import load_movielens_ratings

    split = shared_split()
    if split is None:
        pytest.skip("shared MovieLens split not present")
    train = load_movielens_ratings(split / "train.csv")
    test = load_movielens_ratings(split / "test.csv")
    catalog = np.union1d(train.movie_ids, test.movie_ids)
    return Model.fit(train, seed=0, movie_ids=catalog), train, test
