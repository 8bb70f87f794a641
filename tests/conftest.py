"""Shared fixtures: real SQLite databases in temporary files, never mocks; and the rules that
mark tests (``pytest`` alone runs the fast ones, ``./scripts/test`` every one; README.md)."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import inspect
import os
import shutil
import sqlite3
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings as hypothesis_settings
from sqlite_utils import Database

from devtools.paths import REPO
from devtools.tutorial import write_movielens_folder
from moviebot.paths import bundled_dataset
from storage.db import connect
from storage.movielens import import_movielens

# The loopback Bot API server (fixture `fake_telegram`), for every test module.
pytest_plugins = ["devtools.fixtures"]

# Property tests: a handful of examples in the fast run, the full count in the gate
# (`./scripts/test` passes --hypothesis-profile=ci). A test asks for its full count through
# tests.helpers.examples(n), which caps it at the profile's max_examples.
hypothesis_settings.register_profile("dev", max_examples=10)
hypothesis_settings.register_profile("ci", max_examples=200)  # at least any test's full count
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# ------------------------------------------------------------------------------ markers
# The rules that mark a test (pyproject.toml registers the markers; `pytest` alone deselects
# them). A test's "code" is its function plus, transitively, the functions of its own module and
# of tests.helpers that it names; a name counts by the module its object comes from.

# integration: the python-telegram-bot stack, the loopback Bot API, or a child process (a
# `moviebot` run, a CLI call, nginx).
INTEGRATION_FIXTURES = {"fake_telegram"}
INTEGRATION_MODULES = (
    "subprocess",
    "telegram",
    "devtools.fake_telegram",
    "devtools.app",
    "devtools.ptb",
    "devtools.bot_process",
)
# ...and the production classes whose call starts a `moviebot` child process.
INTEGRATION_OBJECTS = {
    "moviebot.catalog_update.CatalogRefresh",
    "moviebot.training.RefitProcess",
    "moviebot.training.FirstFit",
}
# slow: Spark (a local session takes about 10 s to start, then seconds per fit): the `spark`
# fixture, or a test that asks for pyspark itself (pytest.importorskip("pyspark")); and a test
# that fits its own model of the whole bundled catalog (the session's shared model is the
# fast set's).
SLOW_FIXTURES = {"spark"}
SLOW_STRINGS = {"pyspark"}
SLOW_OBJECTS = {"moviebot.training.train"}
# quality: a figure on evaluation data: the shared MovieLens split, the labelled title queries.
QUALITY_FIXTURES = {"shared_fit"}
QUALITY_MODULES = ("devtools.title_calibration",)
QUALITY_NAMES = {"shared_split", "shared_data_dir"}


def _origin(value: object) -> str:
    """The module an object was defined in ('' when unknown)."""
    if isinstance(value, types.ModuleType):
        return value.__name__
    return getattr(value, "__module__", None) or ""


def _code(function: types.FunctionType) -> tuple[set[str], set[str]]:
    """The names and the string constants in `function`'s code, nested functions included."""
    names: set[str] = set()
    strings: set[str] = set()
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        strings.update(c for c in code.co_consts if isinstance(c, str))
        codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return names, strings


def _named(function: types.FunctionType, seen: set[int] | None = None) -> dict[str, object]:
    """Every global `function` names, following the test modules' and helpers' own functions."""
    seen = set() if seen is None else seen
    if id(function) in seen:
        return {}
    seen.add(id(function))
    names, _ = _code(function)
    found: dict[str, object] = {}
    for name in names:
        if name not in function.__globals__:
            continue
        value = function.__globals__[name]
        found[name] = value
        own = _origin(value).startswith("tests.")
        if own and inspect.isfunction(value):
            found.update(_named(value, seen))
        elif own and inspect.isclass(value):
            for member in vars(value).values():
                if inspect.isfunction(member):
                    found.update(_named(member, seen))
    return found


def _uses(named: dict[str, object], modules: tuple[str, ...]) -> bool:
    origins = {_origin(value) for value in named.values()}
    return any(o == m or o.startswith(m + ".") for o in origins for m in modules)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        function = getattr(item, "function", None)
        named = _named(function) if inspect.isfunction(function) else {}
        objects = {
            f"{_origin(value)}.{getattr(value, '__qualname__', '')}" for value in named.values()
        }
        starts_a_process = INTEGRATION_OBJECTS & objects
        if fixtures & INTEGRATION_FIXTURES or _uses(named, INTEGRATION_MODULES) or starts_a_process:
            item.add_marker(pytest.mark.integration)
        if (
            fixtures & SLOW_FIXTURES
            or (named and SLOW_STRINGS & _code(function)[1])
            or SLOW_OBJECTS & objects
        ):
            item.add_marker(pytest.mark.slow)
        if (
            fixtures & QUALITY_FIXTURES
            or _uses(named, QUALITY_MODULES)
            or QUALITY_NAMES & named.keys()
        ):
            item.add_marker(pytest.mark.quality)


# ----------------------------------------------------------------------------- fixtures


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


def _built_once(request: pytest.FixtureRequest, name: str, build) -> Path:
    """`build(path)` run by the first of the run's workers that needs `name`; the others (xdist
    workers are processes) wait on a lock, then use the same file, which nobody writes again.

    Between runs the file is kept in pytest's cache under a digest of what it is built from
    (_sources_digest): the catalog import and the model fit (~15 s of CPU) happen once per
    change of the code or data. The gate (./scripts/test, -p no:cacheprovider) always builds."""
    tmp_path_factory = request.getfixturevalue("tmp_path_factory")
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder every worker's basetemp is in: one per run
    path = shared / name
    cache = getattr(request.config, "cache", None)
    kept = cache.mkdir(f"moviebot-{_sources_digest()}") / name if cache is not None else None
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            partial = shared / f"{name}.partial"
            if kept is not None and kept.exists():
                shutil.copyfile(kept, partial)
            else:
                build(partial)
                if kept is not None:  # another run may be keeping it too: each its own copy
                    copy = kept.with_name(f"{name}.{os.getpid()}.partial")
                    shutil.copyfile(partial, copy)
                    copy.rename(kept)
            partial.rename(path)
    return path


@functools.cache
def _sources_digest() -> str:
    """A digest of what the catalog and the model are built from: the code and data under
    storage/, recommender/ and moviebot/, and the numpy, scipy and SQLite versions."""
    import scipy

    digest = hashlib.sha256(
        f"{np.__version__} {scipy.__version__} {sqlite3.sqlite_version}".encode()
    )
    for folder in ("storage", "recommender", "moviebot"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _build_catalog(path: Path) -> None:
    database = connect(path)
    import_movielens(database, bundled_dataset())
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    for leftover in path.parent.glob(path.name + "-*"):  # the closed database's -wal, -shm
        leftover.unlink()


@pytest.fixture(scope="session")
def _catalog_template(request: pytest.FixtureRequest) -> Path:
    """The bundled MovieLens catalog imported once per run; copied, never opened, by tests."""
    return _built_once(request, "catalog.db", _build_catalog)


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
def catalog_model_path(
    _catalog_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Path:
    """The default model fitted once on the bundled catalog (about a second)."""
    from moviebot.training import train

    def fit(path: Path) -> None:
        db_copy = tmp_path_factory.mktemp("model") / "catalog.db"
        shutil.copyfile(_catalog_template, db_copy)
        written = path.with_name("fitting.model.npz")  # `train` wants the .npz suffix
        train(db_copy, written)
        written.rename(path)

    return _built_once(request, "catalog.model.npz", fit)


def _freeze(value: object, seen: set[int]) -> None:
    """Make every numpy array reachable from `value` read-only, so that a test writing into a
    shared object fails instead of changing what the tests after it see."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, dict):
        for item in value.values():
            _freeze(item, seen)
    elif isinstance(value, list | tuple):
        for item in value:
            _freeze(item, seen)
    elif hasattr(value, "__dict__") or hasattr(value, "__slots__"):
        attributes = getattr(value, "__dict__", {}).copy()
        for slot in getattr(type(value), "__slots__", ()):
            if hasattr(value, slot):
                attributes[slot] = getattr(value, slot)
        for item in attributes.values():
            _freeze(item, seen)


@pytest.fixture(scope="session")
def catalog_model(catalog_model_path: Path):
    """The session's model, loaded once (reading checks every array's CRC: ~0.3 s) and shared
    read-only by every `service` (a model is immutable; the bot swaps, never edits, one)."""
    from recommender import Model

    model = Model.load(catalog_model_path)
    _freeze(model, set())
    return model


@pytest.fixture(scope="session")
def _catalog_titles(_catalog_template: Path):
    """The title index of the untouched catalog, with the rows it was built from."""
    from storage.movies import title_rows
    from storage.search import TitleIndex

    database = connect(_catalog_template)
    try:
        rows = title_rows(database)
    finally:
        database.close()
    return rows, TitleIndex(rows)


@pytest.fixture
def service(catalog_db: Database, catalog_model, _catalog_titles, monkeypatch):
    """The bot's service on a private copy of the catalog with the session's model.

    Building the title index takes ~0.2 s; while the test's catalog still reads as the session's
    (the same search rows, so the same index), the session's index is handed out instead."""
    from bot.service import MovieService
    from storage.movies import title_rows
    from storage.search import TitleIndex

    rows, shared = _catalog_titles

    def from_db(cls, database: Database) -> TitleIndex:
        current = title_rows(database)
        return shared if cls is TitleIndex and current == rows else cls(current)

    monkeypatch.setattr(TitleIndex, "from_db", classmethod(from_db))
    return MovieService(catalog_db, catalog_model)


@pytest.fixture
def settings(fake_telegram, catalog_db_path: Path, catalog_model_path: Path):
    """Bot settings pointing at the loopback Bot API server and a private catalog copy."""
    from bot.telegram.app import BotSettings
    from devtools.ptb import TEST_TOKEN

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
    from devtools.paths import shared_split
    from recommender import Model
    from recommender.movielens_files import load_movielens_ratings

    split = shared_split()
    if split is None:
        pytest.skip("shared MovieLens split not present")
    train = load_movielens_ratings(split / "train.csv")
    test = load_movielens_ratings(split / "test.csv")
    catalog = np.union1d(train.movie_ids, test.movie_ids)
    return Model.fit(train, seed=0, movie_ids=catalog), train, test
