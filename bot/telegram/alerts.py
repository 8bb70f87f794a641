"""Sending alerts like a good citizen of Telegram: the outbox filled when a digest is due, then
drained under the bot's own rate limiter, the answers to people who write coming first.

Every ALERT_SECONDS the job (`AlertJob.run`) journals the digests that are due
(storage/alerts.py: one outbox row per person and week, written before anything is sent; the
digest itself is made by the command layer, bot/commands/features/alerts.py) and sends what the
outbox holds:

- through the bot's AIORateLimiter (~30 messages/s overall), after `AlertLimiter.room` says the
  limiter has ANSWER_HEADROOM free slots beyond this send: a broadcast fills what the answers
  leave, and an answer never queues behind it;
- while Telegram's flood control (RetryAfter) is on, nothing goes: the limiter holds every
  request, and a RetryAfter that gets through puts the alert back for after it;
- at most one message a second to one chat;
- a person who blocked the bot (403 Forbidden) has their alerts stopped and is not tried again;
- a row is marked `sending` before its request and `sent` after: after a kill -9 the rows left
  `sending` are `uncertain` and not sent again (`storage.alerts.recover`), so nothing repeats
  and at most the MAX_IN_FLIGHT alerts on their way at the kill may be missing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application

from bot.commands.features import alerts as alert_content
from bot.service import MovieService
from bot.telegram.delivery import BotRuntime, stored_error
from bot.telegram.sending import send_reply
from bot.telegram.watch_job import FIRST_WATCH_SECONDS, WATCH_SECONDS, WatchJob
from bot.ui.replies import outcome_from_json, outcome_to_json
from storage import alerts

log = logging.getLogger(__name__)

ALERT_SECONDS = 60.0
# The first round after a start: soon, so a broadcast a stop or a kill cut short goes on (and
# what it left `sending` is marked uncertain) within seconds, after the bot's first answers.
FIRST_ALERT_SECONDS = 5.0
# Free slots of the overall limiter a broadcast leaves to the answers (of 30 a second).
ANSWER_HEADROOM = 5
# Alerts on their way at once: enough to keep ~30/s going at Telegram's latency, few enough
# that a kill -9 leaves few `uncertain`.
MAX_IN_FLIGHT = 4
PER_CHAT_SECONDS = 1.0
# When a send fails for a reason that may pass (Telegram's 5xx, the network): retry after.
RETRY_SECONDS = 60.0
BATCH = 200
PRUNE_SECONDS = 3600  # how often finished alerts past storage.alerts.KEEP_SENT_DAYS go


class AlertLimiter(AIORateLimiter):
    """The bot's rate limiter (PTB's AIORateLimiter), which a broadcast asks for room first."""

    async def room(self, spare: int = ANSWER_HEADROOM) -> None:
        """Wait until no flood wait is on and the overall limiter has `spare` free slots
        beyond one more request."""
        while True:
            await self._retry_after_event.wait()
            base = self._base_limiter
            if base is None or base.has_capacity(spare + 1):
                return
            await asyncio.sleep(base.time_period / base.max_rate)


def _journal_digest(service: MovieService, sub: alerts.Subscription, period: str) -> bool:
    """Make `sub`'s digest and journal it (or, when nothing fits, mark the week done)."""
    # Films added while it is made, or after the model's last fit, are the next digest's.
    until = alerts.digest_until(service.db, sub.digest_since)
    outcome = alert_content.weekly_digest(service, sub, until)
    text = outcome_to_json(outcome) if outcome is not None else None
    return alerts.journal_alert(service.db, sub.user_id, alerts.DIGEST, period, text, until)


class AlertJob:
    """The alerts job: fill the outbox with what is due, then drain it."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._recovered = False
        self._last_sent: dict[int, float] = {}  # chat -> when its last alert went (monotonic)
        self._paused_until = 0.0
        self._pruned_at = -PRUNE_SECONDS

    async def job(self, context: Any) -> None:
        """The JobQueue's callback."""
        await self.run(context.application)

    async def run(self, application: Application) -> int:
        """One round: journal the due digests, then send the outbox; returns how many were
        sent (0 when a round is still running)."""
        if self.lock.locked():
            return 0
        async with self.lock:
            rt: BotRuntime = application.bot_data.runtime
            if not self._recovered:
                uncertain = await rt.run(alerts.recover, rt.db)
                if uncertain:
                    log.warning("%d alert(s) were on their way at the last stop", uncertain)
                self._recovered = True
            if time.monotonic() - self._pruned_at > PRUNE_SECONDS:
                await rt.run(alerts.prune_sent, rt.db)
                self._pruned_at = time.monotonic()
            await self.fill(rt)
            return await self.drain(rt, application.bot)

    async def fill(self, rt: BotRuntime) -> int:
        """Journal every digest that is due; returns how many went into the outbox."""
        due = await rt.run(alerts.due_digests, rt.db)
        journaled = 0
        for sub, period in due:  # one at a time: answers to people get the database between
            journaled += await rt.run(_journal_digest, rt.service, sub, period)
        return journaled

    async def drain(self, rt: BotRuntime, bot: Any) -> int:
        """Send the outbox's pending alerts under the limits; returns how many went."""
        limiter = bot.rate_limiter if isinstance(bot.rate_limiter, AlertLimiter) else None
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        sent = 0

        async def one(row: alerts.OutboxRow) -> None:
            nonlocal sent
            try:
                went = await self._send(rt, bot, row)
                sent += went  # after the await: `sent += await ...` would read it before
            finally:
                slots.release()

        while rt.running():
            rows = await rt.run(alerts.pending, rt.db, BATCH)
            if not rows:
                break
            async with asyncio.TaskGroup() as tasks:
                for row in rows:
                    await slots.acquire()
                    if not rt.running():
                        slots.release()
                        break
                    await self._wait_turn(row.user_id, limiter)
                    tasks.create_task(one(row))
        return sent

    async def _wait_turn(self, chat_id: int, limiter: AlertLimiter | None) -> None:
        """Wait out a flood pause, the chat's one second, and room in the limiter."""
        now = time.monotonic()
        wait = max(self._paused_until, self._last_sent.get(chat_id, 0.0) + PER_CHAT_SECONDS)
        if wait > now:
            await asyncio.sleep(wait - now)
        if limiter is not None:
            await limiter.room()
        self._last_sent[chat_id] = time.monotonic()
        if len(self._last_sent) > 10_000:  # only the last second's chats matter
            cutoff = time.monotonic() - PER_CHAT_SECONDS
            self._last_sent = {c: t for c, t in self._last_sent.items() if t > cutoff}

    async def _send(self, rt: BotRuntime, bot: Any, row: alerts.OutboxRow) -> int:
        """Send one alert, recording it before and after; 1 when it went."""
        if not await rt.run(alerts.claim, rt.db, row.id):
            return 0
        outcome = outcome_from_json(row.outcome)
        try:
            for reply in outcome.replies:
                await send_reply(bot, row.user_id, reply, None, run=rt.run, service=rt.service)
        except Forbidden as error:  # blocked the bot, or deactivated: never again
            log.info("alert %d: the person blocked the bot; their alerts are stopped", row.id)
            await rt.run(_blocked, rt, row.id, row.user_id, stored_error(error))
            return 0
        except RetryAfter as error:
            seconds = _seconds(error.retry_after)
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            await rt.run(alerts.retry_later, rt.db, row.id, seconds, stored_error(error))
            return 0
        except TimedOut as error:  # it may have arrived: not sent again
            log.warning("alert %d timed out waiting for Telegram; not sent again", row.id)
            await rt.run(alerts.mark, rt.db, row.id, "uncertain", stored_error(error))
            return 0
        except BadRequest as error:  # Telegram refuses it for good (chat not found...)
            log.warning("alert %d refused: %s", row.id, error)
            await rt.run(alerts.mark, rt.db, row.id, "dropped", stored_error(error))
            return 0
        except TelegramError as error:  # 5xx, the network: later
            log.warning("alert %d not sent (%s); retried later", row.id, error)
            await rt.run(alerts.retry_later, rt.db, row.id, RETRY_SECONDS, stored_error(error))
            return 0
        await rt.run(alerts.mark, rt.db, row.id, "sent")
        return 1


def _blocked(rt: BotRuntime, alert_id: int, user_id: int, error: str) -> None:
    alerts.mark(rt.db, alert_id, "dropped", error)
    alerts.stop_all(rt.db, user_id, "blocked")


def _seconds(value: Any) -> float:
    """A RetryAfter's retry_after in seconds (an int or a timedelta, by PTB's settings)."""
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def schedule(application: Application) -> AlertJob:
    """Run the alerts job every ALERT_SECONDS on the application's JobQueue, and the
    streaming alert's job (bot/telegram/watch_job.py) every WATCH_SECONDS."""
    job = AlertJob()
    application.bot_data.alerts = job
    watch = application.bot_data.watch = WatchJob()  # the streaming alert (needs TMDB)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            job.job, interval=ALERT_SECONDS, first=FIRST_ALERT_SECONDS, name="alerts_job"
        )
        application.job_queue.run_repeating(
            watch.job, interval=WATCH_SECONDS, first=FIRST_WATCH_SECONDS, name="watch_job"
        )
    return job


async def alerts_now(application: Application) -> int:
    """One round of the alerts job now, as the job would run it."""
    return await application.bot_data.alerts.run(application)
