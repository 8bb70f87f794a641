"""`moviebot run`'s options: each flag has an environment default, resolved in one place.

    --webhook-url URL   beats   MOVIEBOT_WEBHOOK_URL=URL   beats   the built-in default

so a systemd unit, a container or a person typing `MOVIEBOT_WEBHOOK_URL=... moviebot run` all
get the same bot. An empty variable counts as unset (systemd's ``Environment=NAME=``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class OptionError(Exception):
    """An environment variable holds a value its flag would refuse."""


def host_port(text: str) -> tuple[str, int]:
    """argparse type: HOST:PORT (``:9464`` means every interface), e.g. ``127.0.0.1:9464``."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, like 127.0.0.1:9464, got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def boolean(text: str) -> bool:
    """A switch's environment value: 1/true/yes/on or 0/false/no/off."""
    value = text.strip().lower()
    if value not in _TRUE | _FALSE:
        raise argparse.ArgumentTypeError(f"expected 1 or 0 (true/false), got {text!r}")
    return value in _TRUE


@dataclass(frozen=True)
class EnvOption:
    """A flag whose default comes from ``MOVIEBOT_<FLAG>``, then from `default`."""

    flag: str  # "--webhook-url"
    help: str
    default: Any = None
    type: Callable[[str], Any] = str
    switch: bool = False  # a flag without a value (store_true); the variable takes 1/0
    choices: Sequence[str] | None = None
    shown: str | None = None  # the default as --help states it, when not `default` itself
    metavar: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def env(self) -> str:
        return "MOVIEBOT_" + self.dest.upper()

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Add the flag; its argparse default is None, meaning "not given"."""
        shown = self.shown or ("off" if self.switch else self.default)
        help_text = f"{self.help} (env {self.env}; default {shown})".replace("%", "%%")
        if self.switch:
            parser.add_argument(self.flag, action="store_true", default=None, help=help_text)
        else:
            parser.add_argument(
                self.flag,
                type=self.type,
                choices=self.choices,
                default=None,
                metavar=self.metavar,
                help=help_text,
            )

    def resolve(self, given: Any, environ: Mapping[str, str]) -> Any:
        """The flag's value if given, else the variable's (converted as the flag would be),
        else the default."""
        if given is not None:
            return given
        raw = environ.get(self.env, "").strip()
        if not raw:
            return self.default
        convert = boolean if self.switch else self.type
        try:
            value = convert(raw)
        except (argparse.ArgumentTypeError, ValueError) as error:
            raise OptionError(f"{self.env}: {error}") from None
        if self.choices is not None and value not in self.choices:
            raise OptionError(f"{self.env} must be one of {', '.join(self.choices)}, got {raw!r}")
        return value


def resolve_all(
    args: argparse.Namespace, options: Sequence[EnvOption], environ: Mapping[str, str]
) -> argparse.Namespace:
    """Fill every option of `args` not given on the command line from `environ` or its
    default (in place; returned for convenience)."""
    for option in options:
        setattr(args, option.dest, option.resolve(getattr(args, option.dest, None), environ))
    return args


def non_negative_float(text: str) -> float:
    """argparse type: a number of at least 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def port_number(text: str) -> int:
    """argparse type: a TCP port, 1-65535."""
    if not text.strip().isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number (1-65535), got {text!r}")
    return int(text)


RUN_OPTIONS: tuple[EnvOption, ...] = (
    EnvOption("--model", "the model file", shown="NAME.model.npz beside the database"),
    EnvOption(
        "--api-url",
        "another Bot API server, e.g. http://127.0.0.1:8081",
        shown="https://api.telegram.org",
        metavar="URL",
    ),
    EnvOption(
        "--refit-minutes",
        "refit the model this often when there are new ratings (0: never)",
        30.0,
        non_negative_float,
    ),
    EnvOption(
        "--catalog-days",
        "update the catalog from IMDb's datasets this often, in days (0: never)",
        7.0,
        non_negative_float,
    ),
    EnvOption(
        "--no-rate-limit",
        "drop the ~30 messages/s limiter (only for load tests against a fake server)",
        False,
        switch=True,
    ),
    EnvOption(
        "--webhook-url",
        "public HTTPS URL: receive updates by webhook (needs MOVIEBOT_WEBHOOK_SECRET)",
        shown="none: long polling",
        metavar="URL",
    ),
    EnvOption("--webhook-path", "path the webhook server answers on", "telegram"),
    EnvOption("--listen", "webhook listen address", "127.0.0.1"),
    EnvOption("--port", "webhook listen port", 8443, port_number),
    EnvOption(
        "--metrics",
        "serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464",
        None,
        host_port,
        shown="off",
        metavar="HOST:PORT",
    ),
    EnvOption(
        "--log-format",
        "text (LEVEL logger: message) or json (one object per line)",
        "text",
        choices=("text", "json"),
    ),
)
