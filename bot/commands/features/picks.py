"""Picks: /recommend and /similar, and what to do with a pick (save it, seen it, hide it)."""

from __future__ import annotations

from dataclasses import replace

from bot.commands.common import (
    BUTTONS_FOR_FIRST,
    DEFAULT_RECOMMENDATIONS,
    MAX_RECOMMENDATIONS,
    STILL_LEARNING_PICKS,
    resolve_title,
    typed_genres,
)
from bot.commands.parsing import parse_count, parse_years
from bot.commands.router import Context, Router, Where
from bot.ui import callbacks, countries, genres, i18n
from bot.ui.callbacks import Callback, Verb
from bot.ui.cards import link_buttons, tell_me_row, title_link
from bot.ui.html import bold, esc
from bot.ui.i18n import N_, _, ngettext
from bot.ui.replies import Button, Outcome, Poster, Reply, split_text
from storage import ratings, state, tmdb_cache, watchlist
from storage.movies import Movie, get_movie

router = Router()


@router.command(
    "recommend",
    Where.PRIVATE,
    rank=30,
    menu=N_("Your top picks: /recommend 5"),
    help=N_("/recommend [n] [genre] [years] - your top picks, e.g. /recommend 5 comedy 1990s"),
    slow=True,
)
def recommend(ctx: Context, args: str) -> Outcome:
    """List the sender's top picks, optionally of a genre and from some years."""
    usage = _(
        "Ask like /recommend, /recommend 5, /recommend 5 comedy or /recommend 5 comedy "
        "1990s (1 to {max} movies; years like 1994, 90s or 1990-2005)."
    ).format(max=MAX_RECOMMENDATIONS)
    n, genre, years, streaming = DEFAULT_RECOMMENDATIONS, None, None, False
    catalog = typed_genres(ctx)
    for token in args.split():
        if token.casefold() == "streaming":
            streaming = True
        elif (span := parse_years(token)) is not None:
            years = span
        elif token.isdigit() or token.lstrip("+-").replace(".", "").isdigit():
            count = parse_count(token, DEFAULT_RECOMMENDATIONS, MAX_RECOMMENDATIONS)
            if count is None:
                return Outcome.say(usage)
            n = count
        elif token.casefold() in catalog:
            genre = catalog[token.casefold()]
        else:
            known = ", ".join(sorted(genres.typed(g) for g in set(catalog.values()))[:20])
            return Outcome.say(
                _('I don\'t know the genre "{genre}". Try one of: {known}.').format(
                    genre=esc(token[:40]), known=esc(known)
                )
            )
    on: dict[int, set[int]] | None = None
    if streaming:
        on, refusal = _on_my_services(ctx)
        if refusal is not None:
            return refusal
    learning = not ctx.service.ready  # the first fit is running: the best-rated list
    picks = ctx.service.recommend(ctx.user_id, n, genre, years, within=on)
    if not picks:
        return Outcome.say(_("I have nothing left to recommend with that filter."))
    cold = ratings.count_user_ratings(ctx.db, ctx.user_id) == 0
    if learning:
        header = _(STILL_LEARNING_PICKS)
    elif cold:
        header = _(
            "You haven't rated anything yet, so these are the best-rated {movies}. "
            "Rate a few (/start) and I'll pick for your taste."
        ).format(movies=_movies_label(genre, years))
    else:
        header = _top_picks_header(len(picks), genre, years)
    # The order is the ranking stage's (would watch x would like); the match figure falls with
    # it, the predicted rating need not, so the header says what each figure is.
    lines = [
        bold(header),
        _(
            "In order of what you're most likely to watch and enjoy. Match: against the first "
            "pick (100%). Then the rating I expect you to give it."
        ),
    ]
    above = None
    for i, pick in enumerate(picks, start=1):
        listed = esc(genres.shown_list(pick.movie.genres[:3]) or _("no genres listed"))
        match = _("{share} match").format(share=i18n.percent(pick.match))
        expected = _("you'd rate it {score}/10").format(score=i18n.decimal(pick.score))
        line = f"\n{i}. {title_link(pick.movie)} · {match} · {expected} · {listed}"
        if above is not None and pick.match > above:
            # Only the franchise spread (recommender/diversity.py) moves a pick down.
            line += " " + _("(placed lower: same series as a pick above)")
        above = pick.match if above is None else min(above, pick.match)
        if on is not None and pick.movie.id in on:
            names = [countries.SERVICE_NAMES[p] for p in sorted(on[pick.movie.id])]
            line += " · " + esc(_("on {services}").format(services=", ".join(names)))
        lines.append(line)
        if pick.because:
            movie, rating = pick.because
            because = _("because you rated {title} {rating}")
            lines.append("   " + because.format(title=esc(movie.title), rating=rating))
    # The top pick is the card: its preview (Telegram draws the poster) and its links.
    top = picks[0].movie
    buttons = [link_buttons(top)]
    if ctx.service.tmdb is not None:  # the streaming alert's facts are TMDB's
        buttons.append(tell_me_row(top))
    for i, pick in enumerate(picks[:BUTTONS_FOR_FIRST], start=1):
        movie_id = pick.movie.id
        buttons.append(
            (
                Button(_("Rate {n}").format(n=i), callbacks.encode(Verb.ASK_SCORE, movie_id)),
                Button(_("Save {n}").format(n=i), callbacks.encode(Verb.SAVE, movie_id)),
                Button(_("Seen {n}").format(n=i), callbacks.encode(Verb.SEEN, movie_id)),
                Button(_("Hide {n}").format(n=i), callbacks.encode(Verb.HIDE, movie_id)),
            )
        )
    chunks = split_text(lines)
    replies = [Reply(chunk) for chunk in chunks[:-1]]
    replies.append(Reply(chunks[-1], tuple(buttons)))
    # With TMDB, the first message goes as the top pick's poster with the text as its caption.
    replies[0] = replace(replies[0], preview_url=top.imdb_url, poster=Poster(top.id))
    return Outcome(replies=replies)


def _on_my_services(ctx: Context) -> tuple[dict[int, set[int]], Outcome | None]:
    """The films streaming on the sender's services in their country (movie id -> which of
    them), from what TMDB said so far; or the answer when there are none to pick from."""
    mine = tmdb_cache.services_of(ctx.db, ctx.user_id)
    if not mine:
        return {}, Outcome.say(
            _("Tell me your streaming services first: /settings, then My services.")
        )
    on = tmdb_cache.streaming_on(ctx.db, countries.current(), mine)
    if not on:
        return {}, Outcome.say(
            _(
                "I don't know of films on your services in {country} yet. Try /recommend "
                "without streaming: the films I show teach me where they stream."
            ).format(country=countries.current())
        )
    return on, None


@router.command(
    "similar",
    Where.BOTH,
    rank=80,
    menu=N_("Movies like one: /similar Frozen"),
    help=N_("/similar <title> - movies like that one"),
    slow=True,
)
def similar(ctx: Context, args: str) -> Outcome:
    """List movies like the one named, or ask which one was meant."""
    if not args:
        return Outcome.say(_("Tell me a movie, like: /similar Frozen"))
    return resolve_title(
        ctx,
        args,
        on_found=lambda movie: similar_to(ctx, movie, with_save=ctx.chat.is_private),
        pick=lambda match: callbacks.encode(Verb.PICK_SIMILAR, match.movie_id),
    )


def similar_to(ctx: Context, movie: Movie, with_save: bool = False) -> Outcome:
    """List the movies most like `movie`, or say it is too little known; `with_save`
    adds a "Save" button for each (private chats: the watchlist is personal)."""
    # In a private chat the list is ordered for the one asking (a group reads one list).
    nearest = ctx.service.similar(movie.id, 10, ctx.user_id if ctx.chat.is_private else None)
    if not nearest:
        # The model's count (what `similar` went by), not the database's.
        count = ctx.service.rating_count(movie.id)
        return Outcome.say(
            ngettext(
                "I don't know {title} well enough yet to find movies like it "
                "({count} rating). Try a better-known one.",
                "I don't know {title} well enough yet to find movies like it "
                "({count} ratings). Try a better-known one.",
                count,
            ).format(title=esc(movie.label), count=count)
        )
    if nearest[0].for_you:
        how = _(
            "Ranked for you: films close to {title} that you haven't rated, the ones your "
            "taste says you'd most enjoy first. Match: how well it fits you, against the first."
        )
    else:
        how = _(
            "Match: how strongly people who watched {title} go on to watch and like it, "
            "compared with every film's closest matches."
        )
    lines = [
        _("Movies like {title}:").format(title=title_link(movie)),
        how.format(title=esc(movie.title)),
    ]
    for i, near in enumerate(nearest, start=1):
        match = _("{share} match").format(share=i18n.percent(near.match))
        # The fans' share is a second figure, not in order: it names whose fans.
        liked = _("liked by {share} of {title} fans").format(
            share=i18n.percent(near.fans_liked), title=esc(movie.title)
        )
        lines.append(f"{i}. {title_link(near.movie)} · {match} · {liked}")
    replies = [Reply(chunk) for chunk in split_text(lines)]
    if with_save:
        saves = [
            Button(_("Save {n}").format(n=i), callbacks.encode(Verb.SAVE, near.movie.id))
            for i, near in enumerate(nearest[:BUTTONS_FOR_FIRST], start=1)
        ]
        rows = tuple(tuple(saves[i : i + 5]) for i in range(0, len(saves), 5))
        if ctx.service.tmdb is not None:  # the top one is the card (its poster)
            rows = (tell_me_row(nearest[0].movie), *rows)
        replies[-1] = Reply(replies[-1].text, rows)
    replies[0] = replace(replies[0], poster=Poster(nearest[0].movie.id))
    return Outcome(replies=replies)


@router.tap(Verb.PICK_SIMILAR, personal=False)
def tap_pick_similar(ctx: Context, cb: Callback) -> Outcome:
    """List movies like the one picked from an ambiguous /similar."""
    outcome = similar_to(ctx, get_movie(ctx.db, cb.target), with_save=ctx.chat.is_private)
    return Outcome(edit=outcome.replies[0], replies=outcome.replies[1:])


@router.tap(Verb.SAVE, personal=True)
def tap_save(ctx: Context, cb: Callback) -> Outcome:
    """Put the movie on the sender's watchlist."""
    movie = get_movie(ctx.db, cb.target)
    if not watchlist.save_for_later(ctx.db, ctx.user_id, movie.id):
        return Outcome(
            toast=_("{title} is on your /watchlist already.").format(title=movie.label[:150])
        )
    return Outcome(
        toast=_("Saved for later: {title}. /watchlist lists them.").format(title=movie.label[:150])
    )


@router.tap(Verb.SEEN, personal=True)
def tap_seen(ctx: Context, cb: Callback) -> Outcome:
    """Note the movie as seen, without a score: it leaves the picks."""
    movie = get_movie(ctx.db, cb.target)
    watchlist.mark_seen(ctx.db, ctx.user_id, movie.id)
    return Outcome(
        toast=_("Seen: I won't pick {title} again. Rate it any time with /rate.").format(
            title=movie.label[:150]
        )
    )


@router.tap(Verb.HIDE, personal=True)
def tap_hide(ctx: Context, cb: Callback) -> Outcome:
    """Keep the movie out of the sender's recommendations."""
    movie = get_movie(ctx.db, cb.target)
    state.hide_movie(ctx.db, ctx.user_id, movie.id)
    return Outcome(
        toast=_("Hidden: I won't recommend {title} again.").format(title=movie.label[:150])
    )


def _years_label(years: tuple[int, int]) -> str:
    """ "from 1994", "from the 1990s", "from 1990-2005"."""
    lo, hi = years
    if lo == hi:
        return _("from {year}").format(year=lo)
    if lo % 10 == 0 and hi == lo + 9:
        return _("from the {decade}s").format(decade=lo)
    return _("from {start}-{end}").format(start=lo, end=hi)


def _movies_label(genre: str | None, years: tuple[int, int] | None) -> str:
    """ "movies overall", "Comedy movies", "movies from the 1990s", "Comedy movies from 1994"."""
    if genre and years:
        return _("{genre} movies {years}").format(
            genre=genres.shown(genre), years=_years_label(years)
        )
    if genre:
        return _("{genre} movies").format(genre=genres.shown(genre))
    if years:
        return _("movies {years}").format(years=_years_label(years))
    return _("movies overall")


def _top_picks_header(n: int, genre: str | None, years: tuple[int, int] | None) -> str:
    """ "Your top 5 picks:", "Your top 5 Comedy picks from the 1990s:" and the like."""
    if genre and years:
        text = ngettext(
            "Your top {n} {genre} pick {years}:", "Your top {n} {genre} picks {years}:", n
        )
    elif genre:
        text = ngettext("Your top {n} {genre} pick:", "Your top {n} {genre} picks:", n)
    elif years:
        text = ngettext("Your top {n} pick {years}:", "Your top {n} picks {years}:", n)
    else:
        text = ngettext("Your top {n} pick:", "Your top {n} picks:", n)
    shown = genres.shown(genre) if genre else ""
    return text.format(n=n, genre=shown, years=_years_label(years) if years else "")
