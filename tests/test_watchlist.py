"""Watchlist ("Save"), seen-it ("Seen") and /grouprec watchlist, on the real catalog and model."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from bot.commands.conversation import Chat, Conversation, Sender
from bot.service import MovieService
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from bot.ui.html import to_plain
from bot.ui.replies import Outcome
from devtools.app import buttons, messages, run_bot
from storage import chats, ratings, state, users, watchlist

ANN = Sender(2001, "Ann Smith", "en")
BOB = Sender(2002, "Bob", "en")
PRIVATE = Chat(2001, is_private=True)
GROUP = Chat(-100600, is_private=False)
TED, FROZEN, TOY_STORY, NEMO = 95441, 106696, 1, 6377


@pytest.fixture
def conversation(service: MovieService) -> Conversation:
    return Conversation(service, bot_username="moviebot_test_bot")


def tap(conversation: Conversation, data: str, sender: Sender = ANN, chat: Chat = PRIVATE):
    return conversation.on_button(sender, chat, data)


def say(conversation: Conversation, text: str, sender: Sender = ANN, chat: Chat = PRIVATE):
    return conversation.on_text(sender, chat, text)


def data_of(outcome: Outcome) -> list[str]:
    replies = ([outcome.edit] if outcome.edit else []) + outcome.replies
    return [b.data for reply in replies for row in reply.buttons for b in row if b.data]


def warm_up(conversation: Conversation) -> None:
    for title in ("toy story", "finding nemo", "up"):
        say(conversation, f"/rate {title} 10")


def test_every_recommendation_has_save_and_seen_and_both_leave_the_picks(
    conversation: Conversation, catalog_db: Database
) -> None:
    warm_up(conversation)
    outcome = say(conversation, "/recommend 5")
    data = data_of(outcome)
    picks = [int(d.split(":")[1]) for d in data if d.startswith("w:")]
    assert len(picks) == 5
    assert [d for d in data if d.startswith("e:")] == [f"e:{m}" for m in picks]
    saved, seen = picks[0], picks[1]
    assert tap(conversation, f"w:{saved}").toast.startswith("Saved for later: ")
    assert "already" in tap(conversation, f"w:{saved}").toast
    assert tap(conversation, f"e:{seen}").toast.startswith("Seen: ")
    again = [int(d.split(":")[1]) for d in data_of(say(conversation, "/recommend 5"))[::4]]
    assert saved not in again and seen not in again
    assert watchlist.watchlist_ids(catalog_db, ANN.user_id) == {saved}
    assert watchlist.seen_ids(catalog_db, ANN.user_id) == {seen}
    # Seen is not "Not interested": nothing was hidden, nothing was rated.
    assert state.hidden_movies(catalog_db, ANN.user_id) == set()
    assert seen not in ratings.user_ratings(catalog_db, ANN.user_id)


def test_similar_offers_save_in_private_chats_only(conversation: Conversation) -> None:
    private = say(conversation, "/similar Toy Story")
    saves = [d for d in data_of(private) if d.startswith("w:")]
    assert len(saves) == 10
    assert tap(conversation, saves[0]).toast.startswith("Saved for later")
    assert data_of(say(conversation, "/similar Toy Story", chat=GROUP)) == []


def test_watchlist_pages_removes_and_rates(
    conversation: Conversation, catalog_db: Database
) -> None:
    assert "empty" in say(conversation, "/watchlist").replies[0].text
    users.save_user(catalog_db, ANN.user_id, "Ann")
    top = [m for m, _ in sorted(ratings.rating_counts(catalog_db).items(), key=lambda x: -x[1])]
    for movie_id in top[:12]:
        watchlist.save_for_later(catalog_db, ANN.user_id, movie_id)
    first = say(conversation, "/watchlist").replies[0]
    assert first.text.startswith("Your watchlist (1-10 of 12):")
    assert data_of(Outcome(replies=[first]))[-1] == callbacks.encode(Verb.WATCH_PAGE, 2)
    second = tap(conversation, callbacks.encode(Verb.WATCH_PAGE, 2)).edit
    assert second.text.startswith("Your watchlist (11-12 of 12):")
    remove = next(d for d in data_of(Outcome(edit=second)) if d.startswith("u:"))
    removed = tap(conversation, remove)
    assert removed.toast.startswith("Removed ")
    assert removed.edit.text.startswith("Your watchlist (11-11 of 11):")
    rate = next(d for d in data_of(Outcome(edit=removed.edit)) if d.startswith("a:"))
    movie_id = int(rate.split(":")[1])
    question = tap(conversation, rate).replies[0]
    assert question.text.startswith("How would you rate")
    tap(conversation, callbacks.encode(Verb.RATE, movie_id, 8))
    # Rated means watched: it leaves the watchlist.
    assert movie_id not in watchlist.watchlist_ids(catalog_db, ANN.user_id)
    assert watchlist.count_watchlist(catalog_db, ANN.user_id) == 10
    assert say(conversation, "/watchlist x").replies[0].text.startswith("Ask like /watchlist")


def test_watchlist_buttons_are_refused_in_groups(conversation: Conversation, catalog_db) -> None:
    users.save_user(catalog_db, ANN.user_id, "Ann")
    outcome = tap(conversation, f"w:{TED}", chat=GROUP)
    assert outcome.toast.startswith("Ratings are private")
    assert watchlist.watchlist_ids(catalog_db, ANN.user_id) == set()


def test_grouprec_watchlist_picks_only_from_members_watchlists(
    conversation: Conversation, catalog_db: Database
) -> None:
    for sender in (ANN, BOB):
        say(conversation, "/join", sender, GROUP)
    assert (
        "Nothing on your watchlists"
        in say(conversation, "/grouprec watchlist", chat=GROUP).replies[0].text
    )
    say(conversation, "/rate Ted 8", ANN)
    say(conversation, "/rate Up 9", BOB)
    for movie_id in (FROZEN, TOY_STORY):
        watchlist.save_for_later(catalog_db, ANN.user_id, movie_id)
    watchlist.save_for_later(catalog_db, BOB.user_id, NEMO)
    text = to_plain(say(conversation, "/grouprec watchlist 5", chat=GROUP).replies[0].text)
    assert text.startswith("Picks for 2 from your watchlists")
    listed = [line for line in text.splitlines() if line[:1].isdigit()]
    assert len(listed) == 3
    assert {"Frozen (2013)", "Toy Story (1995)", "Finding Nemo (2003)"} == {
        line.split(". ", 1)[1].split(" · ")[0] for line in listed
    }
    assert chats.pool_members(catalog_db, GROUP.chat_id)


def test_forget_removes_watchlist_and_seen(conversation: Conversation, catalog_db) -> None:
    users.save_user(catalog_db, ANN.user_id, "Ann")
    watchlist.save_for_later(catalog_db, ANN.user_id, TED)
    watchlist.mark_seen(catalog_db, ANN.user_id, FROZEN)
    users.forget_user(catalog_db, ANN.user_id)
    assert watchlist.watchlist_ids(catalog_db, ANN.user_id) == set()
    assert watchlist.seen_ids(catalog_db, ANN.user_id) == set()


def test_save_and_watchlist_over_telegram(fake_telegram, service, settings, catalog_db) -> None:
    user = 2003

    async def scenario(app) -> None:
        fake_telegram.send_text(user, "/recommend 3", first_name="Cy")
        card = (await messages(fake_telegram, user, 1))[0]
        save = next(b for b in buttons(card) if b.startswith("w:"))
        fake_telegram.tap(user, card, save)
        fake_telegram.send_text(user, "/watchlist", first_name="Cy")
        listing = (await messages(fake_telegram, user, 2))[1]
        assert listing["text"].startswith("Your watchlist (1-1 of 1):")

    run_bot(fake_telegram, service, settings, scenario)
    assert len(watchlist.watchlist_ids(catalog_db, user)) == 1


def test_seen_movies_feed_the_ranking_stage_but_not_the_rating_model(
    conversation: Conversation, service: MovieService, catalog_db: Database
) -> None:
    warm_up(conversation)
    plain = service.profile(ANN.user_id)
    for title in ("Monsters, Inc.", "Shrek", "The Incredibles"):
        movie_id = service.titles.search(title, 1)[0].movie_id
        watchlist.mark_seen(catalog_db, ANN.user_id, movie_id)
    seen = service.profile(ANN.user_id)
    model = service.model
    assert (seen.factors == plain.factors).all() and seen.user_bias == plain.user_bias
    assert not (model.watch_scores(seen) == model.watch_scores(plain)).all()
    assert model.seen(plain, [TED]).n_ratings == plain.n_ratings  # no score was added
