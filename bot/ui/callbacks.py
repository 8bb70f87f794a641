"""Button callback data: one compact format, one parser.

Telegram allows 64 bytes of callback data; ours is "<verb>:<int>[:<int>]", e.g. "r:106696:8".
Anything else (old buttons, tampered data, a number beyond SQLite's integers) parses to None
and gets a friendly answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.errors import InvalidArgument
from storage.validate import check_id

MAX_BYTES = 64


class Verb(StrEnum):
    """What a button does (its handler: a feature module's `router.tap`, bot/commands/features/)."""

    RATE = "r"  # r:<movie>:<score>  store this score
    ASK_SCORE = "a"  # a:<movie>        show the 1-10 buttons for this movie
    SKIP = "s"  # s:<movie>        "haven't seen it" during onboarding
    HIDE = "h"  # h:<movie>        never recommend this movie again
    PICK_RATE = "p"  # p:<movie>:<score> the title meant in an ambiguous /rate (0 = no score yet)
    PICK_SIMILAR = "l"  # l:<movie>     the title meant in an ambiguous /similar
    PICK_MAP = "g"  # g:<movie>         the title meant in an ambiguous /map
    PAGE = "m"  # m:<page>         a page of /myratings
    FORGET = "f"  # f:1 = yes, delete everything; f:0 = keep it
    CANCEL = "x"  # x:0              drop the question
    SAVE = "w"  # w:<movie>          put the movie on the watchlist
    SEEN = "e"  # e:<movie>          seen it, no score: keep it out of the picks
    UNSAVE = "u"  # u:<movie>:<page> take it off the watchlist, show that page again
    WATCH_PAGE = "v"  # v:<page>     a page of /watchlist
    IMPORT = "i"  # i:<plan>:<mode>   the previewed import: 1 = new only, 2 = file's scores win,
    #                                 0 = drop it
    REMOVE = "d"  # d:<movie>:<page> delete this rating, show that page of /myratings again
    UNHIDE = "n"  # n:<movie>:<page> let a hidden movie back, show that page of /hidden again
    HIDDEN_PAGE = "k"  # k:<page>    a page of /hidden
    END_NIGHT = "t"  # t:<night>     end a /movienight vote (its opener)
    SET_GENRE = "y"  # y:<genre>     /settings: never recommend this genre, or again (index)

    SET_ADVENTURE = "o"  # o:<level> /settings: -1 popular, 0 balanced, 1 hidden gems
    LANGUAGE = "lang"  # lang:<n>      speak LANGUAGE_CHOICES[n] (0: as Telegram is set)
    COUNTRY = "cc"  # cc:<n>   /settings: where to watch in countries.OFFERED[n - 1] (0: guess
    #                          from Telegram's language; -1: show the countries)
    SERVICE = "sv"  # sv:<provider> /settings: have this streaming service or not (-1: show
    #                               them; 0: back to /settings)
    UNSEEN = "b"  # b:<movie>:<page> undo "seen", show that page of /seen again
    SEEN_PAGE = "j"  # j:<page>      a page of /seen
    ALERTS = "al"  # al:<on>  /settings: the weekly "new for you" digest on (1) or off (0)
    STOP_ALERTS = "as"  # as:0  "Stop these" under an alert: every alert off
    TELL_ME = "tm"  # tm:<movie>:<how> "Tell me when" it streams or is out: 1 = on a card (a
    #                                  second tap undoes it), 2 = stop watching it (an alert)
    WATCH_ALERTS = "aw"  # aw:<on>  /settings: alerts for the films I wait for on (1) or off (0)
    ALERT_WHEN = "at"  # at:<field>:<n>  when alerts come (bot/ui/alert_times.py): 0 show the
    #                    card, 1 weekday n, 2 hour n, 3 zone ZONE_CHOICES[n], 4 quiet hours
    #                    QUIET_CHOICES[n], 5 done


@dataclass(frozen=True)
class Callback:
    """A parsed button: its verb, the movie (or page) it is for, and a number such as a score."""

    verb: Verb
    target: int
    value: int = 0


def encode(verb: Verb, target: int, value: int | None = None) -> str:
    """The callback data for a button, e.g. encode(Verb.RATE, 106696, 8) == "r:106696:8"."""
    data = f"{verb.value}:{target}" if value is None else f"{verb.value}:{target}:{value}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data {data!r} is longer than {MAX_BYTES} bytes")
    return data


def parse(data: object) -> Callback | None:
    """The callback in `data`, or None for anything that is not one of ours."""
    if not isinstance(data, str) or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) not in (2, 3):
        return None
    try:
        verb = Verb(parts[0])
        numbers = [int(part) for part in parts[1:]]
    except ValueError:
        return None
    if any(not part.lstrip("-").isdigit() for part in parts[1:]):
        return None  # int() also accepts " 7", "+7" and "7_0"; ours never contain those
    try:  # a forged t:<2^63> would overflow SQLite's integers in the first query
        numbers = [check_id(number, "callback number") for number in numbers]
    except InvalidArgument:
        return None
    return Callback(verb, numbers[0], numbers[1] if len(numbers) == 2 else 0)
