"""Operating the bot: /metrics and `moviebot health` against the real `moviebot run`, JSON logs
with the token redacted, and the health check's verdicts."""

from __future__ import annotations

import json
import logging
import math
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.telegram.redact import RedactFilter, forget_secrets, register_secret
from devtools import PATIENCE
from devtools.bot_process import start_bot
from devtools.catalog import TED
from devtools.fake_telegram.server import FakeTelegram
from devtools.fake_telegram.webhook import free_port
from devtools.ptb import TEST_TOKEN
from moviebot import __version__
from moviebot.cli import main
from moviebot.logs import JsonFormatter
from storage import fits, journal, ratings
from storage.db import connect

ANN = 801


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics as {(sample name, sorted labels): value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def wait_until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def metrics_up(port: int) -> bool:
    try:
        scrape(port)
    except OSError:
        return False
    return True


def health(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "moviebot", "health", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_metrics_and_health_follow_a_conversation_with_the_real_bot(
    fake_telegram: FakeTelegram,
    catalog_db_path: Path,
    catalog_model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    # Through the environment, as systemd and the container set them.
    monkeypatch.setenv("MOVIEBOT_METRICS", f"127.0.0.1:{port}")
    monkeypatch.setenv("MOVIEBOT_LOG_FORMAT", "json")
    db = connect(catalog_db_path)
    ratings_before = ratings.count_ratings(db)
    bot = start_bot(
        fake_telegram.url,
        catalog_db_path,
        catalog_model_path,
        refit_minutes=0,
        rate_limit=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        fake_telegram.wait_for_calls_sync("getUpdates", 1, timeout=PATIENCE)
        wait_until(lambda: metrics_up(port), "the metrics endpoint answers")
        before = scrape(port)
        assert before[("moviebot_ratings", ())] == ratings_before
        assert before.get(("moviebot_updates_total", (("kind", "message"),)), 0) == 0

        first = fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
        fake_telegram.wait_for_reply_sync(ANN, after=first, timeout=PATIENCE)
        ask = fake_telegram.send_text(ANN, "/rate Frozen", first_name="Ann")
        question = fake_telegram.wait_for_reply_sync(ANN, after=ask, timeout=PATIENCE)
        nine = next(
            b["callback_data"]
            for row in question["reply_markup"]["inline_keyboard"]
            for b in row
            if b["text"] == "9"
        )
        fake_telegram.tap(ANN, question, nine)
        wait_until(lambda: len(ratings.user_ratings(db, ANN)) == 2, "both ratings stored")
        # One send fails: it is counted, and so is the retry that delivers it.
        fake_telegram.inject_fault("bad_gateway", "sendMessage", times=1)
        help_ = fake_telegram.send_text(ANN, "/help", first_name="Ann")
        fake_telegram.wait_for_reply_sync(ANN, after=help_, timeout=PATIENCE)
        wait_until(
            lambda: scrape(port)[("moviebot_update_handling_seconds_count", ())] == 4,
            "four updates handled",
        )
        after = scrape(port)
        checked = health("--db", str(catalog_db_path), "--model", str(catalog_model_path))
    finally:
        bot.send_signal(signal.SIGINT)
        output, _ = bot.communicate(timeout=PATIENCE)
        fake_telegram.violations.clear()  # the 502 was ours, on purpose
    assert bot.returncode == 0, output[-3000:]

    assert after[("moviebot_updates_total", (("kind", "message"),))] == 3
    assert after[("moviebot_updates_total", (("kind", "callback_query"),))] == 1
    assert after[("moviebot_ratings", ())] == ratings_before + 2
    assert after[("moviebot_deliveries_failed_total", ())] == 1
    assert after[("moviebot_deliveries_retried_total", ())] == 1
    assert after[("moviebot_journal_backlog", ())] == 0
    assert after[("moviebot_journal_oldest_open_seconds", ())] == 0
    assert after[("moviebot_deliveries_abandoned", ())] == 0
    since_fetch = after[("moviebot_seconds_since_last_fetch", ())]
    assert not math.isnan(since_fetch) and since_fetch >= 0
    assert after[("moviebot_model_age_seconds", ())] >= 0
    assert after[("moviebot_refit_duration_seconds_count", ())] == 0  # refits are off

    assert (checked.returncode, checked.stderr) == (0, ""), checked.stdout
    assert checked.stdout.startswith("healthy: ") and "0 update(s) in progress" in checked.stdout

    # Every log line is one JSON object, the token is in none of them.
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in lines)
    assert lines[0]["message"].startswith(f"moviebot {__version__} starting (long polling")
    assert any(e["message"].startswith("metrics at http://127.0.0.1:") for e in lines)
    assert TEST_TOKEN not in output and TEST_TOKEN.split(":")[1] not in output
    assert ratings.user_ratings(db, ANN)[TED] == 8


def test_health_says_why_when_an_update_waits_too_long(
    catalog_db_path: Path, catalog_model_path: Path, capsys
) -> None:
    argv = ["health", "--db", str(catalog_db_path), "--model", str(catalog_model_path)]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("healthy: ")
    db = connect(catalog_db_path)
    journal.record_updates(db, [(42, json.dumps({"update_id": 42}))])
    db.close()
    assert main([*argv, "--max-open-minutes", "10"]) == 0  # it just arrived
    capsys.readouterr()
    assert main([*argv, "--max-open-minutes", "0"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("unhealthy: an update has waited ") and out.count("\n") == 1
    assert out.endswith("(limit 0 min); 1 not done\n")


def test_health_without_a_database_or_a_model_says_so(
    tmp_path: Path, catalog_db_path: Path, capsys
) -> None:
    assert main(["health", "--db", str(tmp_path / "none.db")]) == 1
    assert capsys.readouterr().out == f"unhealthy: no database at {tmp_path / 'none.db'}\n"
    assert not (tmp_path / "none.db").exists()  # a health check creates nothing
    broken = tmp_path / "broken.model.npz"
    broken.write_bytes(b"not a model")
    assert main(["health", "--db", str(catalog_db_path), "--model", str(broken)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("unhealthy: the model does not load: ") and out.count("\n") == 1


def test_json_log_lines_are_redacted_like_text_lines() -> None:
    token = "123456:SECRETsecretSECRET"
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactFilter())
    logger = logging.getLogger("test_ops.json")
    logger.addHandler(handler)
    logger.propagate = False
    register_secret(token)
    try:
        logger.warning("calling https://api.telegram.org/bot%s/getMe", token)
        try:
            raise RuntimeError(f"The token `{token}` was rejected")
        except RuntimeError:
            logger.exception("start failed")
    finally:
        forget_secrets()
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in records)
    assert first["message"] == "calling https://api.telegram.org/bot<token>/getMe"
    assert (first["level"], first["logger"]) == ("WARNING", "test_ops.json")
    assert first["time"].endswith("+00:00") and "traceback" not in first
    assert second["message"] == "start failed"
    assert "RuntimeError: The token `<token>` was rejected" in second["traceback"]
    assert all(token not in line for line in records)


def new_fits(db, before: list[int]) -> list:
    return [f for f in fits.recent_fits(db, 100) if f.id not in before]


def test_sigterm_during_a_refit_abandons_it_keeps_the_model_and_loses_nothing(
    fake_telegram: FakeTelegram, catalog_db_path: Path, catalog_model_path: Path
) -> None:
    import hashlib
    import queue
    import threading

    model_before = hashlib.sha256(catalog_model_path.read_bytes()).hexdigest()
    db = connect(catalog_db_path)
    fits_before = [f.id for f in fits.recent_fits(db, 100)]
    bot = start_bot(
        fake_telegram.url,
        catalog_db_path,
        catalog_model_path,
        refit_minutes=0.02,  # a refit every 1.2 s whenever a rating changed
        rate_limit=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def read() -> None:
        for line in bot.stdout:
            output.append(line)
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        update = fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
        fake_telegram.wait_for_reply_sync(ANN, after=update, timeout=PATIENCE)
        while "refit started (process" not in lines.get(timeout=60):
            pass
        # The fit of the bundled catalog takes seconds: stop the bot once it is under way.
        wait_until(lambda: new_fits(db, fits_before), "the refit's fit recorded as running")
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=60)  # a safety net only: what is checked is that the fit never ended
    finally:
        if bot.poll() is None:
            bot.kill()
        reader.join(timeout=10)
    text = "".join(output)
    assert bot.returncode == 0, text[-3000:]
    assert "refit abandoned at shutdown (process" in text
    assert "refitted model swapped in" not in text and "refit failed" not in text
    # The old model file is untouched, no fit finished, and the rating is kept.
    assert hashlib.sha256(catalog_model_path.read_bytes()).hexdigest() == model_before
    # Killed mid-fit: still "running" (the next start marks it interrupted), never "ok".
    assert [f.status for f in new_fits(db, fits_before)] == ["running"]
    assert ratings.user_ratings(db, ANN) == {TED: 8}
    assert journal.unfinished_updates(db, 100) == []
