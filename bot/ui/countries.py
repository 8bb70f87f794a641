"""The country whose services "where to watch" lists: picked in /settings, else guessed from
the Telegram language ("es-MX" -> MX, "pt-br" -> BR; a bare "es" -> ES, "ru" -> RU, "en" -> US).

Like the language (bot/ui/i18n.py), it is set for the length of one answer (`located`) and
read where a card is made (`current`), so no handler passes it around.

    countries.justwatch_url("Ted (2012)", "MX") -> "https://www.justwatch.com/mx/search?q=Ted+%282012%29"
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import quote_plus

from sqlite_utils import Database

from storage import tmdb_cache

DEFAULT = "US"
# A language without a region: the country most of its speakers on Telegram mean.
BY_LANGUAGE = {
    "en": "US",
    "es": "ES",
    "ru": "RU",
    "pt": "BR",
    "de": "DE",
    "fr": "FR",
    "it": "IT",
    "uk": "UA",
    "pl": "PL",
    "tr": "TR",
    "ja": "JP",
    "ko": "KR",
    "nl": "NL",
}
# JustWatch's country sites (lowercase in its URLs); elsewhere its US site is the best guess.
JUSTWATCH = frozenset(
    "ar at au be bo br ca ch cl co cr cz de dk ec ee es fi fr gb gr gt hk hn hu id ie in it jp "
    "kr lt lv mx my ng nl no nz pe ph pl pt py ro se sg sk th tr tw ua us uy ve za".upper().split()
)
# The countries /settings offers (others can be guessed from a Telegram language with a region).
OFFERED = ("US", "GB", "CA", "ES", "MX", "AR", "CO", "BR", "DE", "FR", "IT", "RU", "UA", "IN")

# The streaming services /settings offers (TMDB provider id, name as TMDB writes it).
SERVICES = (
    (8, "Netflix"),
    (9, "Amazon Prime Video"),
    (337, "Disney Plus"),
    (350, "Apple TV+"),
    (1899, "Max"),
    (15, "Hulu"),
    (531, "Paramount Plus"),
    (149, "Movistar Plus+"),
    (63, "Filmin"),
    (117, "Kinopoisk"),
    (115, "Okko"),
)
SERVICE_NAMES = dict(SERVICES)

_current: ContextVar[str] = ContextVar("moviebot_country", default=DEFAULT)


def guess(language_code: str | None) -> str:
    """The country a Telegram `language_code` suggests: its region when it has one ("es-MX"),
    else its language's usual country, else the US."""
    if not language_code:
        return DEFAULT
    parts = language_code.replace("_", "-").split("-")
    if len(parts) > 1 and len(parts[1]) == 2 and parts[1].isalpha():
        return parts[1].upper()
    return BY_LANGUAGE.get(parts[0].casefold(), DEFAULT)


def country_of(db: Database, user_id: int, telegram_code: str | None) -> str:
    """A person's country: the one they picked in /settings, else the guess from Telegram's
    language (the one given now, else the one last stored)."""
    chosen, stored = tmdb_cache.country_of(db, user_id)
    return chosen or guess(telegram_code or stored)


def flag(country: str) -> str:
    """The country's flag emoji (its two regional indicator letters)."""
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in country.upper() if "A" <= c <= "Z")


@contextmanager
def located(country: str | None) -> Iterator[str]:
    """Cards made inside the block are for `country` (two letters; the US for None)."""
    token = _current.set((country or DEFAULT).upper())
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def current() -> str:
    """The country of the answer being made."""
    return _current.get()


def justwatch_url(query: str, country: str | None = None) -> str:
    """A JustWatch search for `query` on the country's site (the US site where JustWatch has
    none for it)."""
    site = (country or current()).upper()
    site = site if site in JUSTWATCH else DEFAULT
    return f"https://www.justwatch.com/{site.lower()}/search?q={quote_plus(query)}"


# The time zone alerts are scheduled in, by country (the most populous one's where a country
# has several); others get UTC until the person can choose.
ZONES = {
    "US": "America/New_York",
    "GB": "Europe/London",
    "CA": "America/Toronto",
    "ES": "Europe/Madrid",
    "MX": "America/Mexico_City",
    "AR": "America/Argentina/Buenos_Aires",
    "CO": "America/Bogota",
    "BR": "America/Sao_Paulo",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "IT": "Europe/Rome",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "IN": "Asia/Kolkata",
}


def time_zone(country: str) -> str:
    """The time zone (IANA name) alerts for someone in `country` are scheduled in."""
    return ZONES.get(country.upper(), "UTC")
