"""Imports run one way, and no file or class outgrows its limit (read from the source tree).

The contracts (README, "Layout"): feature modules do not import each other; the command layer
imports neither the Telegram adapter nor the console; storage and recommender import neither
bot nor moviebot; nothing outside moviebot imports it (but tests, devtools, bench and scripts);
no import cycle anywhere, type-only imports included. `python -m devtools.layout` prints the
largest files and classes.
"""

from __future__ import annotations

import functools

import pytest

from devtools import layout

FEATURES = "bot.commands.features."


@functools.cache
def graph() -> dict[str, set[str]]:
    """Every module's imports, read once, when a test first needs them (not at collection:
    each test process collects this module)."""
    return layout.import_graph()


def _violations(importers: str, imported: tuple[str, ...], *, allowed=lambda a, b: False):
    """Each `importer -> imported` edge from a module under `importers` into one of the
    `imported` packages, unless `allowed`."""
    return sorted(
        f"{a} imports {b}"
        for a, targets in graph().items()
        if a == importers or a.startswith(importers + ".")
        for b in targets
        if any(b == p or b.startswith(p + ".") for p in imported) and not allowed(a, b)
    )


def _same_feature(a: str, b: str) -> bool:
    """Whether `b` is the feature `a` belongs to (a feature may be a package one day)."""
    return b.removeprefix(FEATURES).split(".")[0] == a.removeprefix(FEATURES).split(".")[0]


def test_feature_modules_do_not_import_each_other() -> None:
    assert (
        _violations("bot.commands.features", ("bot.commands.features",), allowed=_same_feature)
        == []
    )


def test_features_reach_only_the_shared_parts_of_the_command_layer() -> None:
    upward = ("bot.commands.conversation", "bot.commands.dispatcher")
    assert _violations("bot.commands.features", upward) == []


def test_the_command_layer_does_not_import_the_adapter_or_the_console() -> None:
    assert _violations("bot.commands", ("bot.telegram", "bot.console", "telegram")) == []


@pytest.mark.parametrize("package", ["bot.ui", "bot.files", "bot.service"])
def test_the_helpers_below_the_command_layer_do_not_import_it(package: str) -> None:
    assert _violations(package, ("bot.commands", "bot.telegram", "bot.console")) == []


@pytest.mark.parametrize("package", ["storage", "recommender"])
def test_storage_and_recommender_import_neither_bot_nor_moviebot(package: str) -> None:
    assert _violations(package, ("bot", "moviebot")) == []


@pytest.mark.parametrize("package", ["bot", "storage", "recommender"])
def test_nothing_but_the_cli_and_tools_import_moviebot(package: str) -> None:
    assert _violations(package, ("moviebot",)) == []


def test_no_import_cycles_type_only_imports_included() -> None:
    assert layout.cycles(graph()) == []


def test_the_cycle_finder_finds_a_type_only_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert layout.cycles(graph) == [["a", "b", "c"]]


def test_no_production_file_is_over_the_limit() -> None:
    over = [(n, path) for n, path in layout.file_sizes() if n > layout.MAX_FILE_LINES]
    assert over == []


def test_no_class_in_bot_or_moviebot_is_over_the_limit() -> None:
    over = [(n, where) for n, where in layout.class_sizes() if n > layout.MAX_CLASS_LINES]
    assert over == []
