"""When alerts come: the card that asks for the weekly digest's day and hour, the time zone and
the quiet hours (asked when someone first opts in, and from /settings), and how a schedule is
said. Its buttons are handled in bot/commands/features/alert_schedule.py.

    at:1:4 Friday; at:2:18 18:00; at:3:<n> ZONE_CHOICES[n]; at:4:1 QUIET_CHOICES[1] (22-08)
"""

from __future__ import annotations

from babel.dates import get_day_names

from bot.ui import callbacks, countries, i18n
from bot.ui.callbacks import Verb
from bot.ui.html import bold, esc
from bot.ui.i18n import _
from bot.ui.replies import Button, Reply
from storage.alerts import Subscription

# The card's buttons (at:<field>:<n>).
SHOW, DAY, HOUR, ZONE, QUIET, DONE = range(6)
# The digest's hours offered: two rows of four.
HOURS = (8, 10, 12, 14, 16, 18, 20, 22)
# Quiet hours offered (from, until), local; None: none.
QUIET_CHOICES: tuple[tuple[int, int] | None, ...] = (None, (22, 8), (23, 7), (0, 9))
# The zones offered for a country that has several (the first is countries.time_zone's); a
# country not listed has the one countries.ZONES gives it.
COUNTRY_ZONES = {
    "US": (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "America/Anchorage",
        "Pacific/Honolulu",
    ),
    "CA": (
        "America/Toronto",
        "America/Halifax",
        "America/Winnipeg",
        "America/Edmonton",
        "America/Vancouver",
    ),
    "MX": ("America/Mexico_City", "America/Cancun", "America/Hermosillo", "America/Tijuana"),
    "BR": ("America/Sao_Paulo", "America/Manaus", "America/Rio_Branco", "America/Noronha"),
    "ES": ("Europe/Madrid", "Atlantic/Canary"),
    "RU": (
        "Europe/Moscow",
        "Europe/Kaliningrad",
        "Europe/Samara",
        "Asia/Yekaterinburg",
        "Asia/Novosibirsk",
        "Asia/Krasnoyarsk",
        "Asia/Irkutsk",
        "Asia/Vladivostok",
    ),
}
# Every zone a button can name, by its index. A zone added to the lists above shifts the ones
# after it: a card sent before then names another zone (the redrawn card shows the one set).
ZONE_CHOICES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [z for zones in COUNTRY_ZONES.values() for z in zones]
        + sorted(countries.ZONES.values())
        + ["UTC"]
    )
)


def zones_of(country: str) -> tuple[str, ...]:
    """The time zones offered to someone in `country` (one for most countries)."""
    return COUNTRY_ZONES.get(country.upper(), (countries.time_zone(country),))


def zone_label(zone: str) -> str:
    """A zone as a button says it: its city ("New York"), or "UTC"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def quiet_label(start: int, end: int) -> str:
    """Quiet hours as a button says them: "22:00–08:00"."""
    return f"{start:02d}:00–{end:02d}:00"


def quiet_line(sub: Subscription) -> str:
    """The person's quiet hours in a line: "Quiet hours: 22:00–08:00", or none."""
    if sub.quiet_from is None or sub.quiet_until is None:
        return _("No quiet hours")
    return _("Quiet hours: {hours}").format(hours=quiet_label(sub.quiet_from, sub.quiet_until))


def summary(sub: Subscription) -> str:
    """The schedule in a line: the digest's day, hour and zone, and the quiet hours."""
    return f"{when_line(sub)}\n{quiet_line(sub)}"


def when_line(sub: Subscription) -> str:
    """The digest's day, hour and zone in a line."""
    return _("Weekly new films: {day} at {hour}:00 ({zone})").format(
        day=i18n.weekday(sub.weekday), hour=sub.hour, zone=esc(sub.time_zone)
    )


def card(sub: Subscription, country: str) -> Reply:
    """The question: the schedule now, a ✓ on each chosen button."""

    def mark(label: str, chosen: bool) -> str:
        return label + (" ✓" if chosen else "")

    days = get_day_names("abbreviated", context="stand-alone", locale=i18n.current())
    day_row = tuple(
        Button(mark(str(days[d]), d == sub.weekday), callbacks.encode(Verb.ALERT_WHEN, DAY, d))
        for d in range(7)
    )
    hours = [
        Button(mark(f"{h:02d}:00", h == sub.hour), callbacks.encode(Verb.ALERT_WHEN, HOUR, h))
        for h in HOURS
    ]
    offered = zones_of(country)
    if sub.time_zone not in offered and sub.time_zone in ZONE_CHOICES:
        offered = (sub.time_zone, *offered)
    zones = [
        Button(
            mark(zone_label(z), z == sub.time_zone),
            callbacks.encode(Verb.ALERT_WHEN, ZONE, ZONE_CHOICES.index(z)),
        )
        for z in offered
    ]
    chosen_quiet = None if sub.quiet_from is None else (sub.quiet_from, sub.quiet_until)
    quiet = tuple(
        Button(
            mark(_("No quiet hours") if q is None else quiet_label(*q), q == chosen_quiet),
            callbacks.encode(Verb.ALERT_WHEN, QUIET, n),
        )
        for n, q in enumerate(QUIET_CHOICES)
    )
    rows = [day_row, tuple(hours[:4]), tuple(hours[4:])]
    rows += [tuple(zones[i : i + 4]) for i in range(0, len(zones), 4)]
    rows += [quiet, (Button(_("Done"), callbacks.encode(Verb.ALERT_WHEN, DONE)),)]
    text = "\n".join(
        [
            bold(_("When should my alerts come?")),
            summary(sub),
            "",
            _(
                "Tap a day, an hour and your time zone for the weekly new films. No alert "
                "comes in quiet hours: it waits until they end."
            ),
        ]
    )
    return Reply(text, tuple(rows))
