"""Groups: the movie pool (/join, /leave), picks for everyone (/grouprec) and the movie night
vote (/movienight, its poll and the winner)."""

from __future__ import annotations

from dataclasses import replace

from sqlite_utils import Database

from bot.commands.common import (
    DEFAULT_RECOMMENDATIONS,
    INVITE_PREFIX,
    MAX_RECOMMENDATIONS,
    SORRY_OLD_BUTTON,
)
from bot.commands.parsing import parse_count
from bot.commands.router import Context, Router, Where
from bot.service import MovieService
from bot.ui import callbacks, i18n, names
from bot.ui.callbacks import Callback, Verb
from bot.ui.cards import bold_link, link_buttons, title_link
from bot.ui.html import esc
from bot.ui.i18n import N_, _, ngettext
from bot.ui.replies import Button, Outcome, Picture, PollRequest, Reply, split_text
from storage import chats, movienight, users
from storage.errors import UnknownUser
from storage.movies import get_movie

# A /movienight poll offers the pool's top picks; Telegram takes 2-12 options of 1-100 chars.
NIGHT_OPTIONS = 5
MAX_OPTION = 100

router = Router()


@router.command(
    "join",
    Where.GROUP,
    rank=40,
    menu=N_("Join this chat's movie pool"),
    help=N_("/join or /leave the group's pool"),
    elsewhere=N_("/join works in a group chat: add me to a group and try there."),
)
def join(ctx: Context, args: str) -> Outcome:
    """Add the sender to the group's pool."""
    added = chats.join_pool(ctx.db, ctx.chat.chat_id, ctx.user_id)
    size = len(chats.pool_members(ctx.db, ctx.chat.chat_id))
    who = esc(_first_name(ctx.sender.display_name))
    if not added:
        return Outcome.say(
            ngettext(
                "{name}, you're already in this chat's pool ({size} in it).",
                "{name}, you're already in this chat's pool ({size} in it).",
                size,
            ).format(name=who, size=size)
        )
    return Outcome.say(
        ngettext(
            "{name} joined this chat's movie pool ({size} in it). /grouprec for shared "
            "picks; your own ratings stay private.",
            "{name} joined this chat's movie pool ({size} in it). /grouprec for shared "
            "picks; your own ratings stay private.",
            size,
        ).format(name=who, size=size)
    )


@router.command(
    "leave",
    Where.GROUP,
    rank=50,
    menu=N_("Leave this chat's movie pool"),
    elsewhere=N_("/leave works in a group chat."),
)
def leave(ctx: Context, args: str) -> Outcome:
    """Take the sender out of the group's pool."""
    removed = chats.leave_pool(ctx.db, ctx.chat.chat_id, ctx.user_id)
    who = esc(_first_name(ctx.sender.display_name))
    if not removed:
        return Outcome.say(_("{name}, you weren't in this chat's pool.").format(name=who))
    return Outcome.say(_("{name} left this chat's movie pool.").format(name=who))


@router.command(
    "grouprec",
    Where.GROUP,
    rank=60,
    menu=N_("Picks for everyone in the pool"),
    help=N_("/grouprec [n] [watchlist] for picks for everyone who joined"),
    elsewhere=N_("/grouprec works in a group chat, for everyone who /join-ed."),
    slow=True,
)
def group_recommend(ctx: Context, args: str) -> Outcome:
    """List picks for everyone in the group's pool, with a picture of their scores."""
    words = args.split()
    from_watchlists = bool(words) and words[0].casefold() == "watchlist"
    if from_watchlists:
        args = " ".join(words[1:])
    n = parse_count(args, DEFAULT_RECOMMENDATIONS, MAX_RECOMMENDATIONS)
    if n is None:
        return Outcome.say(
            _(
                "Ask like /grouprec, /grouprec 5 (1 to {max}) or /grouprec watchlist (picks "
                "from what members saved for later)."
            ).format(max=MAX_RECOMMENDATIONS)
        )
    members = chats.pool_members(ctx.db, ctx.chat.chat_id)
    if not members:
        return Outcome.say(
            _("Nobody has joined this chat's pool yet: /join first."), _invite_button(ctx)
        )
    picks = ctx.service.group_picks([uid for uid, _ in members], n, from_watchlists)
    if not picks and from_watchlists:
        return Outcome.say(
            _(
                "Nothing on your watchlists that nobody here has rated: save movies with "
                '"Save" under /recommend in a private chat with me.'
            )
        )
    if not picks:
        return Outcome.say(_("Between you, you've rated everything I know!"))
    who = [esc(_first_name(name)[:12]) for _, name in members]
    if from_watchlists:
        header = ngettext(
            "Picks for {count} from your watchlists (nobody has rated these).",
            "Picks for {count} from your watchlists (nobody has rated these).",
            len(members),
        )
    else:
        header = ngettext(
            "Picks for {count} (nobody has rated these).",
            "Picks for {count} (nobody has rated these).",
            len(members),
        )
    # Model.for_group ranks by what the members would choose to watch, braked by their chances
    # of liking it; the figure shown is the predicted average, so it is labelled, not ordered.
    how = _(
        "In order of what you would all most likely choose to watch and enjoy; anyone predicted "
        "below 6/10 sinks a movie. Beside each: the average rating I expect from you (lower "
        "when anyone is below 6/10), then each person's."
    )
    lines = [header.format(count=len(members)) + " " + how]
    for i, pick in enumerate(picks, start=1):
        group = _("average {score}/10").format(score=i18n.decimal(pick.score))
        lines.append(f"\n{i}. {title_link(pick.movie)} · {group}")
        scores = zip(who, pick.member_scores, strict=True)
        lines.append("   " + " · ".join(f"{n} {i18n.decimal(s)}" for n, s in scores))
    replies = [Reply(chunk) for chunk in split_text(lines)]
    replies[0] = replace(
        replies[0], preview_url=picks[0].movie.imdb_url, buttons=_invite_button(ctx)
    )
    caption = _("Each member's predicted score for the top picks.")
    replies.append(Reply(caption, picture=Picture("group", ctx.chat.chat_id)))
    return Outcome(replies=replies)


@router.command(
    "movienight",
    Where.GROUP,
    rank=70,
    menu=N_("Vote on tonight's movie"),
    help=N_("/movienight to vote on the pool's top picks"),
    elsewhere=N_("/movienight works in a group chat, for everyone who /join-ed."),
)
def movie_night(ctx: Context, args: str) -> Outcome:
    """Open a poll of the pool's top picks, or end the open one (/movienight end)."""
    night = movienight.open_night_in(ctx.db, ctx.chat.chat_id)
    if args.casefold() == "end":
        return _end_night_outcome(ctx, night, tapped=False)
    if args:
        return Outcome.say(_("Ask like /movienight to start a vote, /movienight end to end it."))
    if night is not None:
        return Outcome.say(
            _(
                "A movie night vote is already open here: vote in the poll, or /movienight "
                "end to close it."
            )
        )
    members = chats.pool_members(ctx.db, ctx.chat.chat_id)
    if not members:
        return Outcome.say(
            _("Nobody has joined this chat's pool yet: /join first."), _invite_button(ctx)
        )
    picks = ctx.service.group_picks([uid for uid, _ in members], NIGHT_OPTIONS)
    if len(picks) < 2:
        return Outcome.say(_("I need two movies nobody in the pool has rated to vote on."))
    night = movienight.open_night(
        ctx.db, ctx.chat.chat_id, ctx.chat.thread_id, ctx.user_id, [p.movie.id for p in picks]
    )
    question = "🍿 " + ngettext(
        "Movie night! Which one shall we watch? (top picks for the {count})",
        "Movie night! Which one shall we watch? (top picks for the {count})",
        len(members),
    ).format(count=len(members))
    options = tuple(p.movie.label[:MAX_OPTION] for p in picks)
    end = (Button(_("End the vote"), callbacks.encode(Verb.END_NIGHT, night.id)),)
    return Outcome(replies=[Reply(question, (end,), poll=PollRequest(night.id, options))])


def _end_night(ctx: Context, night: movienight.Night | None) -> tuple[tuple[int, int] | None, str]:
    """The poll to stop for the sender, or None and why not."""
    if night is None or night.closed:
        return None, _("There's no movie night vote open here. /movienight starts one.")
    if night.opened_by is not None and night.opened_by != ctx.user_id:
        return None, _("Only the one who opened the vote can end it.")
    if night.message_id is None:
        return None, _("The poll is still on its way: try again in a moment.")
    return (night.chat_id, night.message_id), _("Closing the vote…")


def _end_night_outcome(ctx: Context, night: movienight.Night | None, tapped: bool) -> Outcome:
    """Stop the poll (the winner is announced when Telegram reports it closed)."""
    stop, why = _end_night(ctx, night)
    if tapped:
        return Outcome(toast=why, stop_poll=stop)
    return Outcome(stop_poll=stop) if stop else Outcome.say(why)


@router.tap(Verb.END_NIGHT, personal=False)
def tap_end_night(ctx: Context, cb: Callback) -> Outcome:
    """End the movie night vote whose poll carries the button."""
    night = movienight.get_night(ctx.db, cb.target)
    if night is None or night.chat_id != ctx.chat.chat_id:
        return Outcome(toast=_(SORRY_OLD_BUTTON))
    return _end_night_outcome(ctx, night, tapped=True)


@router.on("poll")
def on_poll(service: MovieService, poll_id: str, votes: list[int], closed: bool) -> Outcome:
    """Announce a movie night's winner when its poll closes (each option's vote count;
    the poll is anonymous, so nothing says who voted for what)."""
    db = service.db
    night = movienight.night_of_poll(db, poll_id)
    if night is None or night.closed or not closed or len(votes) != len(night.movie_ids):
        return Outcome()
    # The group hears the winner in the language of the one who opened the vote.
    with i18n.speaking(_stored_language(db, night.opened_by)):
        return _announce_winner(db, night, votes)


def _stored_language(db: Database, user_id: int | None) -> str:
    """A known user's language, read from storage (no message of theirs at hand)."""
    if user_id is None:
        return i18n.DEFAULT
    try:
        telegram = users.get_user(db, user_id).language
    except UnknownUser:
        return i18n.DEFAULT
    return i18n.language_of(db, user_id, telegram)


def _announce_winner(db: Database, night: movienight.Night, votes: list[int]) -> Outcome:
    """Close the night and say which movie won."""
    # A tie goes to the option ranked higher for the group (listed first).
    best = max(range(len(votes)), key=lambda i: (votes[i], -i))
    winner = get_movie(db, night.movie_ids[best])
    movienight.close_night(db, night.id, winner.id)
    total = sum(votes)
    if total == 0:
        text = "🍿 " + _("Nobody voted, so it's the group's top pick: {title}.").format(
            title=bold_link(winner)
        )
    elif votes.count(votes[best]) > 1:
        text = "🍿 " + ngettext(
            "The vote is in: {title} wins with {votes} of {total} vote (a tie: the group's "
            "higher pick wins). Enjoy the movie!",
            "The vote is in: {title} wins with {votes} of {total} votes (a tie: the group's "
            "higher pick wins). Enjoy the movie!",
            total,
        ).format(title=bold_link(winner), votes=votes[best], total=total)
    else:
        text = "🍿 " + ngettext(
            "The vote is in: {title} wins with {votes} of {total} vote. Enjoy the movie!",
            "The vote is in: {title} wins with {votes} of {total} votes. Enjoy the movie!",
            total,
        ).format(title=bold_link(winner), votes=votes[best], total=total)
    reply = Reply(text, (link_buttons(winner),), preview_url=winner.imdb_url)
    return Outcome(replies=[reply], chat_id=night.chat_id, thread_id=night.thread_id)


def _invite_button(ctx: Context) -> tuple[tuple[Button, ...], ...]:
    """The "rate privately" deep link for a group: it joins the pool and starts rating."""
    if not ctx.bot_username:
        return ()
    token = movienight.invite_token(ctx.db, ctx.chat.chat_id)
    url = f"https://t.me/{ctx.bot_username}?start={INVITE_PREFIX}{token}"
    return ((Button(_("Join & rate privately") + " ↗", url=url),),)


def _first_name(display_name: str | None) -> str:
    """The first readable word of a display name, or "Someone"."""
    return names.first_name(display_name, fallback=_("Someone"))
