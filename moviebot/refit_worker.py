"""One refit in a process of its own, for the running bot (moviebot.training.RefitProcess).

    python -m moviebot.refit_worker DB MODEL [--log-format text|json] [--force]

Exit status: 0 a new model is saved at MODEL, 3 neither a rating nor the catalog changed since
the last fit (nothing done), 1 the fit failed (logged; recorded in model_fits). The bot holds
this process's stdin open; when it closes (the bot exited or was killed) the refit stops at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from moviebot.logs import configure_logging
from moviebot.training import REFITTED, UNCHANGED, refit_if_changed

log = logging.getLogger("moviebot.refit")


def _exit_when_stdin_closes() -> None:
    """The bot is gone: nobody would load the model; stop without cleaning up (the temp file,
    if any, goes at the next start)."""
    # The file descriptor, not sys.stdin.buffer: a thread blocked in the buffered reader holds
    # its lock, and the interpreter's shutdown after a finished refit then aborts (exit 134).
    while os.read(sys.stdin.fileno(), 65536):
        pass
    os._exit(UNCHANGED)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moviebot.refit_worker")
    parser.add_argument("db", type=Path)
    parser.add_argument("model", type=Path)
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    # The served model does not match the database (bot/service.py's refit_wanted).
    parser.add_argument("--force", action="store_true", help="refit even if nothing changed")
    args = parser.parse_args(argv)
    configure_logging(args.log_format)
    threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    try:
        model = refit_if_changed(args.db, args.model, force=args.force)
    except Exception:
        log.exception("refit failed")
        return 1
    return REFITTED if model is not None else UNCHANGED


if __name__ == "__main__":
    sys.exit(main())
