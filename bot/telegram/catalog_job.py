"""The running bot's catalog job: refresh the catalog on its schedule, and take an update in
(its own, or a `moviebot catalog update` run beside the bot) without slowing any answer.

Every CHECK_SECONDS the job runs the refresh it was given (the CLI passes
moviebot.catalog_update.CatalogRefresh: an update in a child process when one is due, else
nothing) in a worker thread, then asks storage whether an update was applied since the last
look. When one was, the title index is built again in a worker thread on a connection of its
own (seconds at 80,000 films: on the database thread every reply would wait for it), swapped in
on the database thread with the other things read from the catalog once
(MovieService.catalog_changed), and a refit follows: the new films get their place in the
picks from a fit's content map (recommender/content.py), and moviebot.training's refit trigger
counts "the catalog changed since the last fit" as a reason, so a refit that cannot run now
(one is running) happens at the next refit job, after a restart too.

The refresh comes in as a callable because bot/ never imports moviebot/ (tests/test_layout.py),
the same way the refit does (BotSettings.refit).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.telegram.delivery import BotRuntime
from storage.db import connect
from storage.imdb_catalog import last_catalog_change
from storage.search import TitleIndex

log = logging.getLogger(__name__)

# How often the job looks: a due update starts within this long of its time, and one applied by
# `moviebot catalog update` beside the bot reaches the answers within this long.
CHECK_SECONDS = 3600
# The first look, a few minutes after the start (not during it: the first fit may be running).
FIRST_CHECK_SECONDS = 300

# Update the catalog at the database path when an update is due; the outcome line (None: not
# due). Blocking: it is run in a worker thread.
CatalogRefresh = Callable[[Path], str | None]


def title_index(db_path: Path) -> TitleIndex:
    """The title index of the catalog at `db_path`, read on a connection of its own (for a
    worker thread: the database thread's connection stays with the database thread)."""
    db = connect(db_path)
    try:
        return TitleIndex.from_db(db)
    finally:
        db.close()


def _last_change(db_path: Path) -> str | None:
    db = connect(db_path)
    try:
        return last_catalog_change(db)
    finally:
        db.close()


class CatalogWatch:
    """The catalog job: what it runs, the last update it took in, and a lock that keeps it to
    one at a time."""

    def __init__(
        self,
        db_path: Path,
        refresh: CatalogRefresh | None,
        refit: Callable[[BotRuntime], Awaitable[bool]] | None = None,
    ) -> None:
        self.db_path = db_path
        self.refresh = refresh
        self.refit = refit
        self.lock = asyncio.Lock()
        # Read when the bot is built: an update applied after that is new to the service.
        self.seen = _last_change(db_path)

    async def check(self, rt: BotRuntime) -> bool:
        """Refresh when due, then take in an update applied since the last look; True when
        one was taken in (the index swapped, a refit asked for)."""
        if self.lock.locked():
            return False
        async with self.lock:
            if self.refresh is not None:
                line = await asyncio.to_thread(self.refresh, self.db_path)
                if line is not None:
                    log.info("scheduled catalog update: %s", line)
            changed = await asyncio.to_thread(_last_change, self.db_path)
            if changed == self.seen:
                return False
            titles = await asyncio.to_thread(title_index, self.db_path)
            await rt.run(rt.service.catalog_changed, titles)
            self.seen = changed
            log.info("catalog updated at %s taken in: %d films searchable", changed, len(titles))
        if self.refit is not None:
            await self.refit(rt)
        return True
