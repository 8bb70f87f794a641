"""The journal's upkeep, run by the application's jobs: every unfinished update queued again at
start, owed answers dropped when too old or too many, and the hourly prune of done updates."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from telegram import Update
from telegram.ext import Application

from bot.telegram import metrics
from bot.telegram.delivery import MAX_DELIVERY_ATTEMPTS, BotRuntime
from storage import imports, journal, users

log = logging.getLogger(__name__)

# Done updates deleted per database-thread turn by the prune (some 50 ms of it each).
PRUNE_CHUNK = 10_000


async def requeue_unfinished(application: Application) -> int:
    """Put every unfinished update back in the queue (at start, and for failed deliveries)."""
    rt: BotRuntime = application.bot_data.runtime
    await drop_owed(rt)
    entries = await rt.run(journal.unfinished_updates, rt.db, MAX_DELIVERY_ATTEMPTS)
    for entry in entries:
        # put_nowait: these come from the journal, a webhook-mode put would store them again.
        application.update_queue.put_nowait(
            Update.de_json(json.loads(entry.payload), application.bot)
        )
    if entries:
        log.info("handling %d unfinished update(s) again", len(entries))
    return len(entries)


async def drop_owed(rt: BotRuntime) -> int:
    """Drop the owed updates received more than owed_seconds ago, and the oldest beyond
    max_owed (a bounded queue); logged and counted. Returns how many went."""
    cutoff = datetime.now(UTC) - timedelta(seconds=rt.policy.owed_seconds)
    before = cutoff.isoformat(timespec="microseconds")
    dropped = await rt.run(journal.drop_owed, rt.db, before, rt.policy.max_owed)
    if dropped:
        metrics.deliveries_dropped(len(dropped))
        log.error("dropped %d owed update(s) too old or too many: %s", len(dropped), dropped[:20])
    return len(dropped)


async def prune_journal(application: Application) -> int:
    """Delete done updates older than the journal's retention (longer than Telegram's
    redelivery window) and the marks of /forget older than the backups; returns how many
    updates went."""
    rt: BotRuntime = application.bot_data.runtime
    await drop_owed(rt)
    # In chunks, so updates are answered in between: an hour at 200 updates/s is 720,000 rows,
    # seconds of the database thread in one go (bench/bench_journal.py).
    pruned, chunk = 0, PRUNE_CHUNK
    while chunk == PRUNE_CHUNK:
        chunk = await rt.run(journal.prune_done, rt.db, None, PRUNE_CHUNK)
        pruned += chunk
    await rt.run(users.prune_forgotten, rt.db)
    await rt.run(imports.prune_pending, rt.db)  # previewed imports nobody tapped
    if pruned:
        log.info("pruned %d done update(s) from the journal", pruned)
    return pruned
