"""The person's account: /settings (genres never to recommend, how adventurous, language, the
country whose services "where to watch" lists), /language, and /forget (delete everything
about them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.commands.common import SORRY_OLD_BUTTON, typed_genres
from bot.commands.router import Context, Router, Where
from bot.ui import alert_times, callbacks, countries, genres, i18n
from bot.ui.callbacks import Callback, Verb
from bot.ui.html import bold, esc
from bot.ui.i18n import N_, _, ngettext
from bot.ui.replies import Button, Outcome, Reply
from storage import alerts, ratings, tmdb_cache, users
from storage import settings as user_settings

# What /language offers, in its buttons' order; None: as the user's Telegram is set.
LANGUAGE_CHOICES: tuple[str | None, ...] = (None, *i18n.LANGUAGES)
# Backups of the database are daily and each is kept this long (deploy/moviebot-backup.service).
BACKUP_DAYS = 14
# /settings' "how adventurous" levels (storage/settings.py), as the buttons say them.
ADVENTURE_LABELS = {
    user_settings.POPULAR: N_("Popular"),
    user_settings.BALANCED: N_("Balanced"),
    user_settings.HIDDEN_GEMS: N_("Hidden gems"),
}

router = Router()


@router.command(
    "language",
    Where.PRIVATE,
    rank=170,
    menu=N_("Change the language I speak"),
    help=N_("/language - change the language I speak with you"),
)
def language(ctx: Context, args: str) -> Outcome:
    """Switch to the language named, or offer the languages as buttons."""
    if args:
        wanted = args.strip().casefold()
        for code in LANGUAGE_CHOICES:
            if wanted in ({"auto"} if code is None else {code, i18n.LANGUAGES[code].casefold()}):
                return Outcome.say(_speak(ctx, code))
        known = ", ".join(f"{name} ({code})" for code, name in i18n.LANGUAGES.items())
        return Outcome.say(
            _("I speak {languages}. Choose like: /language es").format(languages=known)
        )
    rows = tuple(
        (
            Button(
                i18n.LANGUAGES[code] if code else _("As my Telegram is set"),
                callbacks.encode(Verb.LANGUAGE, n),
            ),
        )
        for n, code in enumerate(LANGUAGE_CHOICES)
    )
    # Each catalogue names its own language: this is said in the language it names.
    return Outcome.say(_("I speak English with you. Which language do you want?"), rows)


def _speak(ctx: Context, code: str | None) -> str:
    """Store the language chosen (None: Telegram's) and say so in it."""
    users.choose_language(ctx.db, ctx.user_id, code)
    with i18n.speaking(i18n.language_of(ctx.db, ctx.user_id, ctx.sender.language)):
        return _("Okay, I'll speak English with you.")


@router.tap(Verb.LANGUAGE, personal=True)
def tap_language(ctx: Context, cb: Callback) -> Outcome:
    """Switch to the language tapped: say so, or redraw /settings in it (value 1)."""
    if not 0 <= cb.target < len(LANGUAGE_CHOICES):
        return Outcome(toast=_(SORRY_OLD_BUTTON))
    said = _speak(ctx, LANGUAGE_CHOICES[cb.target])
    if cb.value != 1:
        return Outcome(edit=Reply(said))
    with i18n.speaking(i18n.language_of(ctx.db, ctx.user_id, ctx.sender.language)):
        return Outcome(edit=_settings_card(ctx), toast=said)


@router.command(
    "settings",
    Where.PRIVATE,
    rank=180,
    menu=N_("Genres to skip, how adventurous"),
    help=N_("/settings - genres never to recommend, popular picks or hidden gems, language"),
)
def settings(ctx: Context, args: str) -> Outcome:
    """Show the sender's settings with buttons to change them."""
    return Outcome(replies=[_settings_card(ctx)])


def _settings_card(ctx: Context) -> Reply:
    """The settings message: what is set, and a button for every change."""
    chosen = user_settings.get_settings(ctx.db, ctx.user_id)
    excluded = genres.shown_list(chosen.excluded_genres) or _("nothing excluded")
    picked = users.chosen_language(ctx.db, ctx.user_id)
    country = countries.country_of(ctx.db, ctx.user_id, ctx.sender.language)
    lines = [
        bold(_("Your settings")),
        _("Never recommend: {genres}").format(genres=esc(excluded)),
        _("How adventurous: {level}").format(level=_(ADVENTURE_LABELS[chosen.adventurous])),
        _("Language: {language}").format(language=i18n.LANGUAGES[i18n.current()]),
        _("Where to watch: {country}").format(country=_country_label(country)),
        _("My services: {services}").format(services=esc(_services_label(ctx))),
        _("Alerts: {alerts}").format(alerts=_alerts_label(ctx)),
        "",
        _("Tap a level, or a genre to exclude it (tap again to allow it)."),
    ]
    levels = tuple(
        Button(
            _(label) + (" ✓" if level == chosen.adventurous else ""),
            callbacks.encode(Verb.SET_ADVENTURE, level),
        )
        for level, label in ADVENTURE_LABELS.items()
    )
    catalog = sorted(set(typed_genres(ctx).values()))
    cells = [
        Button(
            ("🚫 " if genre in chosen.excluded_genres else "") + genres.shown(genre),
            callbacks.encode(Verb.SET_GENRE, index),
        )
        for index, genre in enumerate(catalog)
    ]
    # The language row: Telegram's, or one picked; the tap redraws this card in it.
    languages = tuple(
        Button(
            (i18n.LANGUAGES[code] if code else _("As my Telegram is set"))
            + (" ✓" if code == picked else ""),
            callbacks.encode(Verb.LANGUAGE, n, 1),
        )
        for n, code in enumerate(LANGUAGE_CHOICES)
    )
    rows = [levels] + [tuple(cells[i : i + 3]) for i in range(0, len(cells), 3)]
    rows += [languages[:2], languages[2:]]
    rows.append(
        (
            Button(_country_label(country) + " ›", callbacks.encode(Verb.COUNTRY, -1)),
            Button(_("My services") + " ›", callbacks.encode(Verb.SERVICE, -1)),
        )
    )
    digest = _digest_on(ctx)
    label = _("Weekly new films for me") + (" ✓" if digest else "")
    rows.append((Button("🔔 " + label, callbacks.encode(Verb.ALERTS, 0 if digest else 1)),))
    if ctx.service.tmdb is not None:  # where films stream and when they are out: TMDB's
        waiting = _waiting_on(ctx)
        label = _("When a film I'm waiting for streams or is out") + (" ✓" if waiting else "")
        rows.append((Button("🔔 " + label, callbacks.encode(Verb.WATCH_ALERTS, int(not waiting))),))
    sub = alerts.get_subscription(ctx.db, ctx.user_id)
    if sub is not None and (sub.digest or sub.streaming):  # when, and quiet hours
        when = _("When, and quiet hours") + " ›"
        rows.append((Button("🕕 " + when, callbacks.encode(Verb.ALERT_WHEN, alert_times.SHOW)),))
    return Reply("\n".join(lines), tuple(rows))


def _waiting_on(ctx: Context) -> bool:
    sub = alerts.get_subscription(ctx.db, ctx.user_id)
    return sub is not None and sub.streaming


@router.tap(Verb.WATCH_ALERTS, personal=True)
def tap_watch_alerts(ctx: Context, cb: Callback) -> Outcome:
    """Turn the alert for the films the sender waits for (their watchlist, "Tell me when")
    on (1) or off (0), and show /settings again."""
    if cb.target not in (0, 1):
        return Outcome(toast=_(SORRY_OLD_BUTTON))
    country = countries.country_of(ctx.db, ctx.user_id, ctx.sender.language)
    zone = countries.time_zone(country)
    alerts.subscribe(ctx.db, ctx.user_id, alerts.STREAMING, bool(cb.target), zone)
    toast = _("Alerts on: when a film you wait for streams or is out") if cb.target else None
    return Outcome(edit=_settings_card(ctx), toast=toast or _("Alerts off"))


def _digest_on(ctx: Context) -> bool:
    sub = alerts.get_subscription(ctx.db, ctx.user_id)
    return sub is not None and sub.digest


def _alerts_label(ctx: Context) -> str:
    sub = alerts.get_subscription(ctx.db, ctx.user_id)
    waiting = [_("films you wait for")] if sub is not None and sub.streaming else []
    if sub is None or not sub.digest:
        return ", ".join(waiting) or _("none")
    digest = _("new films for you, {day} at {hour}:00 ({zone})").format(
        day=i18n.weekday(sub.weekday), hour=sub.hour, zone=sub.time_zone
    )
    return ", ".join([digest, *waiting])


@router.tap(Verb.ALERTS, personal=True)
def tap_alerts(ctx: Context, cb: Callback) -> Outcome:
    """Turn the weekly "new for you" digest on (1) or off (0), and show /settings again (the
    first time on: ask when it should come)."""
    if cb.target not in (0, 1):
        return Outcome(toast=_(SORRY_OLD_BUTTON))
    country = countries.country_of(ctx.db, ctx.user_id, ctx.sender.language)
    zone = countries.time_zone(country)
    first = alerts.get_subscription(ctx.db, ctx.user_id) is None
    alerts.subscribe(ctx.db, ctx.user_id, alerts.DIGEST, bool(cb.target), zone)
    toast = _("Alerts on: new films for you weekly") if cb.target else _("Alerts off")
    if first and cb.target:
        sub = alerts.get_subscription(ctx.db, ctx.user_id)
        return Outcome(edit=alert_times.card(sub, country), toast=toast)
    return Outcome(edit=_settings_card(ctx), toast=toast)


def _country_label(country: str) -> str:
    return f"{countries.flag(country)} {country}"


def _services_label(ctx: Context) -> str:
    mine = tmdb_cache.services_of(ctx.db, ctx.user_id)
    names = [name for pid, name in countries.SERVICES if pid in mine]
    return ", ".join(names) or _("none yet")


@router.tap(Verb.SERVICE, personal=True)
def tap_service(ctx: Context, cb: Callback) -> Outcome:
    """Show the streaming services to tick (-1), tick or untick one, or go back to /settings
    (0); `/recommend streaming` picks among the films on the ticked ones."""
    if cb.target == 0:
        return Outcome(edit=_settings_card(ctx))
    if cb.target != -1:
        if cb.target not in countries.SERVICE_NAMES:
            return Outcome(toast=_(SORRY_OLD_BUTTON))
        has = cb.target in tmdb_cache.services_of(ctx.db, ctx.user_id)
        tmdb_cache.set_service(ctx.db, ctx.user_id, cb.target, not has)
    mine = tmdb_cache.services_of(ctx.db, ctx.user_id)
    cells = [
        Button(name + (" ✓" if pid in mine else ""), callbacks.encode(Verb.SERVICE, pid))
        for pid, name in countries.SERVICES
    ]
    rows = [tuple(cells[i : i + 3]) for i in range(0, len(cells), 3)]
    rows.append((Button(_("Done"), callbacks.encode(Verb.SERVICE, 0)),))
    question = _("Which streaming services do you have? /recommend streaming then picks from them.")
    return Outcome(edit=Reply(question, tuple(rows)))


@router.tap(Verb.COUNTRY, personal=True)
def tap_country(ctx: Context, cb: Callback) -> Outcome:
    """Show the countries (-1), or set where the sender watches (0: guess it again) and show
    /settings again."""
    if cb.target == -1:
        cells = [
            Button(_country_label(code), callbacks.encode(Verb.COUNTRY, n))
            for n, code in enumerate(countries.OFFERED, start=1)
        ]
        rows = [tuple(cells[i : i + 4]) for i in range(0, len(cells), 4)]
        rows.append((Button(_("As my Telegram is set"), callbacks.encode(Verb.COUNTRY, 0)),))
        question = _("Where do you watch? I list the services of that country.")
        return Outcome(edit=Reply(question, tuple(rows)))
    if not 0 <= cb.target <= len(countries.OFFERED):
        return Outcome(toast=_(SORRY_OLD_BUTTON))
    chosen = countries.OFFERED[cb.target - 1] if cb.target else None
    tmdb_cache.choose_country(ctx.db, ctx.user_id, chosen)
    country = countries.country_of(ctx.db, ctx.user_id, ctx.sender.language)
    toast = _("Where to watch: {country}").format(country=_country_label(country))
    return Outcome(edit=_settings_card(ctx), toast=toast)


@router.tap(Verb.SET_ADVENTURE, personal=True)
def tap_set_adventure(ctx: Context, cb: Callback) -> Outcome:
    """Set how adventurous the sender's picks are."""
    if cb.target not in ADVENTURE_LABELS:
        return Outcome(toast=_(SORRY_OLD_BUTTON))
    chosen = user_settings.get_settings(ctx.db, ctx.user_id)
    user_settings.save_settings(ctx.db, ctx.user_id, replace(chosen, adventurous=cb.target))
    toast = _("Picks: {level}").format(level=_(ADVENTURE_LABELS[cb.target]).lower())
    return Outcome(edit=_settings_card(ctx), toast=toast)


@router.tap(Verb.SET_GENRE, personal=True)
def tap_set_genre(ctx: Context, cb: Callback) -> Outcome:
    """Exclude a genre from the sender's recommendations, or allow it again."""
    catalog = sorted(set(typed_genres(ctx).values()))
    if not 0 <= cb.target < len(catalog):
        return Outcome(toast=_(SORRY_OLD_BUTTON))
    genre = catalog[cb.target]
    chosen = user_settings.get_settings(ctx.db, ctx.user_id)
    if genre in chosen.excluded_genres:
        excluded = tuple(g for g in chosen.excluded_genres if g != genre)
        toast = _("{genre} is back in your picks").format(genre=genres.shown(genre))
    else:
        excluded = (*chosen.excluded_genres, genre)
        toast = _("No more {genre}").format(genre=genres.shown(genre))
    if len(excluded) > user_settings.MAX_EXCLUDED:
        return Outcome(toast=_("That's every genre: allow one again first."))
    user_settings.save_settings(ctx.db, ctx.user_id, replace(chosen, excluded_genres=excluded))
    return Outcome(edit=_settings_card(ctx), toast=toast)


@router.command(
    "forget",
    Where.PRIVATE,
    rank=190,
    menu=N_("Delete everything I know about you"),
    help=N_("/forget - delete everything I know about you"),
)
def forget(ctx: Context, args: str) -> Outcome:
    """Ask before deleting everything about the sender."""
    count = ratings.count_user_ratings(ctx.db, ctx.user_id)
    if count == 0:  # "your 0 ratings" reads as a glitch
        question = _(
            "You haven't rated anything, but this deletes everything else I know about you "
            "(your lists, settings and the messages you sent me). Are you sure?"
        )
    else:
        question = ngettext(
            "This deletes your {count} rating and everything else I know about you. Are you sure?",
            "This deletes your {count} ratings and everything else I know about you. Are you sure?",
            count,
        ).format(count=count)
    return Outcome.say(
        question,
        (
            (
                Button(_("Yes, delete everything"), callbacks.encode(Verb.FORGET, 1)),
                Button(_("No, keep it"), callbacks.encode(Verb.FORGET, 0)),
            ),
        ),
    )


@router.tap(Verb.FORGET, personal=True)
def tap_forget(ctx: Context, cb: Callback) -> Outcome:
    """Delete everything about the sender once confirmed, or keep it."""
    if cb.target != 1:
        return Outcome(edit=Reply(_("Okay, I kept everything.")))
    deleted = users.forget_user(ctx.db, ctx.user_id)
    until = i18n.long_date((datetime.now(UTC) + timedelta(days=BACKUP_DAYS + 1)).date())
    if deleted == 0:
        done = _(
            "Done: I deleted everything I knew about you, including the messages you sent me. "
            "The daily backups made before now still hold it: each is kept {days} days, so the "
            "last copy is gone by {until}. /start begins afresh."
        ).format(days=BACKUP_DAYS, until=until)
        return Outcome(edit=Reply(done), truncate_wal=True)
    return Outcome(
        edit=Reply(
            ngettext(
                "Done: I deleted your {count} rating and everything else about you, "
                "including the messages you sent me. The daily backups made before now "
                "still hold it: each is kept {days} days, so the last copy is gone by "
                "{until}. /start begins afresh.",
                "Done: I deleted your {count} ratings and everything else about you, "
                "including the messages you sent me. The daily backups made before now "
                "still hold it: each is kept {days} days, so the last copy is gone by "
                "{until}. /start begins afresh.",
                deleted,
            ).format(count=deleted, days=BACKUP_DAYS, until=until)
        ),
        truncate_wal=True,  # the log keeps no frame of what went (bot/telegram/delivery.py)
    )
