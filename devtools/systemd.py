"""Read the shipped systemd units the way systemd does (deploy/moviebot*.service).

defaults, exec_start = unit_service(DEPLOY / "moviebot-backup.service")
argv = expand(exec_start, {**defaults, **env_file(), "MOVIEBOT_DB": "/tmp/x.db"})
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from devtools.paths import DEPLOY


def unit_service(path: Path = DEPLOY / "moviebot.service") -> tuple[dict[str, str], list[str]]:
    """The [Service] Environment= defaults and ExecStart words of a systemd unit."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())  # join continued lines
    defaults: dict[str, str] = {}
    exec_start: list[str] = []
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "Environment":
            name, _, default = value.partition("=")
            defaults[name] = default
        elif key == "ExecStart":
            exec_start = shlex.split(value)
    return defaults, exec_start


def env_file(path: Path = DEPLOY / "moviebot.env.example") -> dict[str, str]:
    """NAME=value lines of a systemd EnvironmentFile (comments and blank lines skipped)."""
    settings = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            settings[name.strip()] = value
    return settings


def expand(words: list[str], env: dict[str, str]) -> list[str]:
    """systemd's ${NAME} in ExecStart: replaced inside its word, always exactly one argument."""
    return [re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word) for word in words]
