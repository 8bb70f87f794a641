"""Alerts: the weekly "new for you" digest a person opted into in /settings, the alert when a
film they wait for streams or is out, "Tell me when" on a film card, and "Stop these" under
every alert.

The digest is the person's top picks among the films added to the catalog since their last
one (at most DIGEST_SIZE), as a /recommend card; nothing when none of them fits. A film alert
says the film now streams on their services in their country, or is out there. Both are made
here, transport-free; bot/telegram/alerts.py and watch_job.py journal them in the outbox, and
alerts.py sends them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from bot.commands.common import SORRY_OLD_BUTTON
from bot.commands.router import Context, Router
from bot.service import MovieService
from bot.tmdb.facts import FilmFacts
from bot.ui import callbacks, countries, genres, i18n
from bot.ui.callbacks import Callback, Verb
from bot.ui.cards import TELL_ME_STOP, TELL_ME_TOGGLE, link_buttons, tell_me_row, title_link
from bot.ui.html import bold, esc
from bot.ui.i18n import _, ngettext
from bot.ui.replies import Button, Outcome, Poster, Reply
from storage import alert_watches, alerts, tmdb_cache, users
from storage.movies import Movie, get_movie

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
        if service.tmdb is not None:  # a new film is often not out or not streaming yet
            rows.append(tell_me_row(top))
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


def seen_now(
    facts: FilmFacts, country: str, services: set[int], today: date
) -> tuple[list[str], bool | None]:
    """What is true of the film for someone in `country` with `services` (none named: any
    service): the services streaming it there, and whether it is out there (None: TMDB
    knows no date)."""
    names = [name for pid, name in facts.streams_in(country) if not services or pid in services]
    out = facts.out_on(country)
    return names, None if out is None else out <= today


def seen_for(country: str, services: set[int]) -> str:
    """The country and services a film's facts were judged for ("ES:8,337")."""
    return f"{country}:{','.join(str(p) for p in sorted(services))}"


def film_alert(
    service: MovieService, user_id: int, movie: Movie, streaming: list[str], out: date | None
) -> Outcome:
    """The alert that a film the person waits for now streams on `streaming` (their services
    that have it) and/or came out on `out`, in their language and for their country."""
    db = service.db
    user = users.get_user(db, user_id)
    country = countries.country_of(db, user_id, user.language)
    with i18n.speaking(i18n.language_of(db, user_id, user.language)), countries.located(country):
        where = f"{countries.flag(country)} {country}"
        names = esc(", ".join(streaming))
        if streaming and out is not None:
            text = _("{title} is out, and streaming on {services} ({country}).")
        elif streaming:
            text = _("{title} is streaming now on {services} ({country}).")
        else:
            text = _("{title} is out ({country}, {day}).")
        said = text.format(
            title=title_link(movie),
            services=names,
            country=where,
            day=i18n.long_date(out) if out else "",
        )
        lines = [
            "🔔 " + bold(said),
            _("You asked me to tell you: it is on your watchlist or you tapped Tell me when."),
        ]
        stop = Button(
            "🔕 " + _("Stop watching this film"),
            callbacks.encode(Verb.TELL_ME, movie.id, TELL_ME_STOP),
        )
        rows = (link_buttons(movie), (stop,), stop_button())
        reply = Reply("\n".join(lines), rows, preview_url=movie.imdb_url)
        return Outcome(replies=[replace(reply, poster=Poster(movie.id))])


@router.tap(Verb.TELL_ME, personal=True)
def tap_tell_me(ctx: Context, cb: Callback) -> Outcome:
    """Watch the film for the sender and turn their streaming alert on; or, tapped again (or
    "Stop watching" under an alert), stop watching it. A film watched only because it is on
    their watchlist is taken as asked for at the first tap, not stopped."""
    if cb.value not in (TELL_ME_TOGGLE, TELL_ME_STOP):
        return Outcome(toast=_(SORRY_OLD_BUTTON))
    movie = get_movie(ctx.db, cb.target)
    title = movie.label[:80]
    sub = alerts.get_subscription(ctx.db, ctx.user_id)
    on = sub is not None and sub.streaming
    if cb.value == TELL_ME_STOP or (on and alert_watches.asked(ctx.db, ctx.user_id, movie.id)):
        alert_watches.tell_me(ctx.db, ctx.user_id, movie.id, False)
        return Outcome(toast=_("I won't tell you about {title} any more.").format(title=title))
    alert_watches.tell_me(ctx.db, ctx.user_id, movie.id, True)
    country = countries.country_of(ctx.db, ctx.user_id, ctx.sender.language)
    if not on:
        alerts.subscribe(ctx.db, ctx.user_id, alerts.STREAMING, True, countries.time_zone(country))
    _note_as_asked(ctx, movie.id, country)
    return Outcome(
        toast="🔔 "
        + _(
            "I'll tell you when {title} streams on your services or is out. Tap again to stop."
        ).format(title=title)
    )


def _note_as_asked(ctx: Context, movie_id: int, country: str) -> None:
    """What is true of the film now, when TMDB's facts are cached: the alert is for what
    changes after the tap (a film already streaming is not news)."""
    cached = tmdb_cache.cached(ctx.db, [movie_id]).get(movie_id)
    if cached is None:
        return  # not known yet: the alert job's first look records it
    services = tmdb_cache.services_of(ctx.db, ctx.user_id)
    today = datetime.now(UTC).date()
    names, released = seen_now(FilmFacts.from_json(cached), country, services, today)
    place = seen_for(country, services)
    alert_watches.note_seen(ctx.db, ctx.user_id, movie_id, bool(names), released, place)
