"""The bot's languages: English in the code, Spanish and Russian in gettext catalogues.

Every user-visible string is an English msgid wrapped in `_` (or `ngettext` for counts, with
CLDR plural rules: 1 оценка, 2 оценки, 5 оценок). Placeholders are named, `{name}`, and filled
with `.format` after the translation, so a translator can move them.

Which language: `speaking(language)` sets it for everything computed inside (a contextvar, so
each update's answer, computed in whatever thread, has its own). The conversation enters it once
per message or tap with the sender's language (their /language choice, else Telegram's
`language_code`). Module-level message constants are marked with `N_` (extracted, left in
English) and translated with `_` where they are used, i.e. at reply time.

The catalogues are the .po files under bot/locales/LANG/LC_MESSAGES/; they are compiled in
memory with Babel the first time a language is used (no .mo files to build or keep in step).
Re-extract after changing strings (README, "Languages and translations"):

    pybabel extract -F babel.cfg -o bot/locales/moviebot.pot --no-location --omit-header .
    pybabel update -i bot/locales/moviebot.pot -d bot/locales -D moviebot --no-fuzzy-matching
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from io import BytesIO
from pathlib import Path

from babel.dates import format_date, get_day_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from sqlite_utils import Database

from storage import users

DEFAULT = "en"
# Each language by its code, named in itself (the /language buttons).
LANGUAGES = {"en": "English", "es": "Español", "ru": "Русский"}
DOMAIN = "moviebot"
LOCALES = Path(__file__).parent.parent / "locales"

_current: ContextVar[str] = ContextVar("moviebot_language", default=DEFAULT)


def choose(code: str | None) -> str:
    """The bot's language for a Telegram `language_code` ("es-419" -> "es"); English for
    none or one the bot does not speak."""
    if not code:
        return DEFAULT
    base = code.replace("_", "-").split("-")[0].casefold()
    return base if base in LANGUAGES else DEFAULT


def language_of(db: Database, user_id: int, telegram_code: str | None) -> str:
    """A user's language: the one they picked with /language, else their Telegram's."""
    return choose(users.chosen_language(db, user_id) or telegram_code)


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Translate into `language` (a code, see `choose`) inside the block."""
    chosen = choose(language)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def current() -> str:
    """The language being spoken now."""
    return _current.get()


def catalogue_path(language: str) -> Path:
    """The .po file of one language."""
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of `language` (English: the msgids themselves)."""
    if language == DEFAULT:
        return gettext.NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """`message` in the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of `singular`/`plural` for the count `n` in the current language."""
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for extraction only: it is translated with `_` where it is used."""
    return message


def decimal(value: float, digits: int = 1) -> str:
    """`value` with `digits` decimals as the current language writes it (8.5, 8,5)."""
    return format_decimal(value, "0." + "0" * digits if digits else "0", locale=current())


def number(value: int) -> str:
    """A count with the language's digit grouping (12,345; 12.345; 12 345)."""
    return format_decimal(value, locale=current())


def percent(share: float) -> str:
    """`share` (0 to 1) as a whole percentage in the current language (42%, 42 %)."""
    return format_percent(share, locale=current())


def long_date(day: date) -> str:
    """A date with the month's name in the current language (16 December 2026)."""
    language = current()
    return format_date(day, "d MMMM y" if language == DEFAULT else "long", locale=language)


def weekday(day: int) -> str:
    """The name of a day of the week (0 Monday) in the current language (Friday, viernes)."""
    return str(get_day_names("wide", context="stand-alone", locale=current())[day])
