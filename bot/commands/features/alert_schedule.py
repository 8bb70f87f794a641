"""When alerts come: the weekly digest's day, hour and time zone, and quiet hours, chosen on the
card bot/ui/alert_times.py draws (asked when someone first opts in, and from /settings). Quiet
hours hold back every alert, whatever its kind (storage/alerts.py). A button that is not one
of the card's, or a tap by someone who has no alerts, changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.commands.common import SORRY_OLD_BUTTON
from bot.commands.router import Context, Router
from bot.ui import alert_times, countries
from bot.ui.callbacks import Callback, Verb
from bot.ui.html import to_plain
from bot.ui.i18n import _
from bot.ui.replies import Outcome, Reply
from storage import alerts

router = Router()


@router.tap(Verb.ALERT_WHEN, personal=True)
def tap_when(ctx: Context, cb: Callback) -> Outcome:
    """Show the card (field SHOW), change one choice on it and show it again, or close it
    (DONE) with the schedule in a line."""
    sub = alerts.get_subscription(ctx.db, ctx.user_id)
    if sub is None or not (sub.digest or sub.streaming):
        return Outcome(toast=_("Turn alerts on in /settings first."))
    country = countries.country_of(ctx.db, ctx.user_id, ctx.sender.language)
    field, n = cb.target, cb.value
    if field == alert_times.SHOW:
        return Outcome(edit=alert_times.card(sub, country))
    if field == alert_times.DONE:
        done = alert_times.summary(sub) + "\n\n" + _("/settings changes it.")
        return Outcome(edit=Reply(done), toast=_("Saved"))
    weekday, hour, zone = sub.weekday, sub.hour, sub.time_zone
    if field == alert_times.DAY and 0 <= n <= 6:
        weekday = n
    elif field == alert_times.HOUR and n in alert_times.HOURS:
        hour = n
    elif field == alert_times.ZONE and 0 <= n < len(alert_times.ZONE_CHOICES):
        zone = alert_times.ZONE_CHOICES[n]
    elif field == alert_times.QUIET and 0 <= n < len(alert_times.QUIET_CHOICES):
        quiet = alert_times.QUIET_CHOICES[n]
        alerts.set_quiet_hours(ctx.db, ctx.user_id, *(quiet or (None, None)))
        return _redrawn(ctx, country, alert_times.quiet_line)
    else:
        return Outcome(toast=_(SORRY_OLD_BUTTON))
    alerts.set_schedule(ctx.db, ctx.user_id, weekday, hour, zone)
    return _redrawn(ctx, country, alert_times.when_line)


def _redrawn(ctx: Context, country: str, line: Callable[[alerts.Subscription], str]) -> Outcome:
    """The card again with the change made, and the changed `line` of it as the toast."""
    sub = alerts.get_subscription(ctx.db, ctx.user_id)
    return Outcome(edit=alert_times.card(sub, country), toast=to_plain(line(sub)))
