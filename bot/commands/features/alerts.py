"""Alerts: the weekly "new for you" digest a person opted into in /settings, and "Stop these"
under every alert.

The digest is the person's top picks among the films added to the catalog since their last
one (at most DIGEST_SIZE), as a /recommend card; nothing when none of them fits. It is made
here, transport-free; bot/telegram/alerts.py journals it in the outbox and sends it.
"""

from __future__ import annotations

from dataclasses import replace

from bot.commands.router import Context, Router
from bot.service import MovieService
from bot.ui import callbacks, countries, genres, i18n
from bot.ui.callbacks import Callback, Verb
from bot.ui.cards import link_buttons, title_link
from bot.ui.html import bold, esc
from bot.ui.i18n import _, ngettext
from bot.ui.replies import Button, Outcome, Poster, Reply
from storage import alerts, users

DIGEST_SIZE = 5

router = Router()


def weekly_digest(
    service: MovieService, sub: alerts.Subscription, until: str | None = None
) -> Outcome | None:
    """The digest for `sub`'s person, in their language and for their country: their top
    picks among the films added after `sub.digest_since` and up to `until` (None: now); None
    when none is left to pick (all seen, hidden, of an excluded genre, or none was added)."""
    db = service.db
    user = users.get_user(db, sub.user_id)
    country = countries.country_of(db, sub.user_id, user.language)
    language = i18n.language_of(db, sub.user_id, user.language)
    with i18n.speaking(language), countries.located(country):
        new = alerts.films_added_since(db, sub.digest_since, until)
        if not new:
            return None
        picks = service.recommend(sub.user_id, DIGEST_SIZE, within=new)
        if not picks:
            return None
        header = ngettext(
            "New in my catalog this week, for you: {n} film",
            "New in my catalog this week, for you: {n} films",
            len(picks),
        ).format(n=len(picks))
        lines = [bold(header)]
        for i, pick in enumerate(picks, start=1):
            listed = esc(genres.shown_list(pick.movie.genres[:3]) or _("no genres listed"))
            score = i18n.decimal(pick.score)
            lines.append(f"\n{i}. {title_link(pick.movie)} · {score}/10 · {listed}")
        top = picks[0].movie
        rows = [link_buttons(top)]
        rows += [
            (
                Button(_("Save {n}").format(n=i), callbacks.encode(Verb.SAVE, pick.movie.id)),
                Button(_("Seen {n}").format(n=i), callbacks.encode(Verb.SEEN, pick.movie.id)),
            )
            for i, pick in enumerate(picks, start=1)
        ]
        rows.append(stop_button())
        reply = Reply("\n".join(lines), tuple(rows), preview_url=top.imdb_url)
        return Outcome(replies=[replace(reply, poster=Poster(top.id))])


def stop_button() -> tuple[Button, ...]:
    """The row under every alert that turns alerts off."""
    return (Button("🔕 " + _("Stop these"), callbacks.encode(Verb.STOP_ALERTS, 0)),)


@router.tap(Verb.STOP_ALERTS, personal=True)
def tap_stop(ctx: Context, cb: Callback) -> Outcome:
    """Turn every alert of the sender off; the alert stays, without its buttons."""
    alerts.stop_all(ctx.db, ctx.user_id)
    return Outcome(
        toast=_("Alerts off. /settings turns them on again."),
        replies=[Reply(_("I won't send you alerts any more. /settings turns them on again."))],
    )
