"""What the conversation remembers about a person between messages: typed, and stored as JSON.

    ConversationState(onboarding: Onboarding | None, awaiting: AwaitingScore | None)

The two parts are independent (a person can be asked about a movie in the middle of the
onboarding cards). Values are frozen; the named transitions return new ones, and `load` /
`save` are the only code that knows the JSON kept by storage.state. The state machine they
form is drawn at the top of bot/commands/conversation.py.

Stored forms, all still read:

    {"onboarding": {"current": 1, "skipped": [2, 3], "rated": 4}, "awaiting_score": 5}
    {"onboarding": {"queue": [1, 6, 7], "rated": 4}}   the form before the typed state: the
        cards still to show, the current first. It read as current = queue[0], skipped = ()
        (it never named the skipped cards; one of them may be shown again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlite_utils import Database

from bot.service import ONBOARDING_SIZE
from storage import state as stored

# The next onboarding card for a person, given the cards they skipped; None when none is left.
NextCard = Callable[[tuple[int, ...]], int | None]


@dataclass(frozen=True)
class OnboardingDone:
    """Onboarding is over (enough ratings, or no card left); never stored."""

    rated: int


@dataclass(frozen=True)
class Onboarding:
    """The onboarding card on screen, the cards answered "haven't seen it", ratings so far."""

    current: int
    skipped: tuple[int, ...] = ()
    rated: int = 0

    @staticmethod
    def begin(next_card: NextCard) -> Onboarding | OnboardingDone:
        """The first card."""
        return _card_or_done(next_card, (), 0)

    def card_rated(self, next_card: NextCard) -> Onboarding | OnboardingDone:
        """The current card was rated: the next card, or done after ONBOARDING_SIZE ratings."""
        return _card_or_done(next_card, self.skipped, self.rated + 1)

    def card_skipped(self, next_card: NextCard) -> Onboarding | OnboardingDone:
        """The current card was not seen: remember it as skipped, show the next card."""
        return _card_or_done(next_card, (*self.skipped, self.current), self.rated)


def _card_or_done(
    next_card: NextCard, skipped: tuple[int, ...], rated: int
) -> Onboarding | OnboardingDone:
    """The next card (asked for only while fewer than ONBOARDING_SIZE are rated), or done."""
    card = next_card(skipped) if rated < ONBOARDING_SIZE else None
    return OnboardingDone(rated) if card is None else Onboarding(card, skipped, rated)


@dataclass(frozen=True)
class AwaitingScore:
    """A movie was shown with score buttons; a score typed as plain text is for it."""

    movie_id: int


@dataclass(frozen=True)
class ConversationState:
    """Everything the conversation remembers about one person; IDLE is nothing."""

    onboarding: Onboarding | None = None
    awaiting: AwaitingScore | None = None

    def with_onboarding(self, progress: Onboarding | OnboardingDone) -> ConversationState:
        """Show the card `progress` holds, or end onboarding when it is done."""
        return replace(self, onboarding=progress if isinstance(progress, Onboarding) else None)

    def ask_score(self, movie_id: int) -> ConversationState:
        """Wait for a score for `movie_id` (replacing any other question)."""
        return replace(self, awaiting=AwaitingScore(movie_id))

    def scored(self, movie_id: int) -> ConversationState:
        """`movie_id` was rated: stop waiting for its score (another question stays)."""
        if self.awaiting != AwaitingScore(movie_id):
            return self
        return replace(self, awaiting=None)


IDLE = ConversationState()


def load(db: Database, user_id: int) -> ConversationState:
    """The person's stored state; IDLE when there is none."""
    return from_json(stored.get_state(db, user_id))


def save(db: Database, user_id: int, state: ConversationState) -> None:
    """Store the person's state (IDLE deletes it)."""
    stored.set_state(db, user_id, to_json(state))


def to_json(state: ConversationState) -> dict[str, Any]:
    """The stored form (the current one); {} for IDLE."""
    data: dict[str, Any] = {}
    if state.onboarding is not None:
        progress = state.onboarding
        data["onboarding"] = {
            "current": progress.current,
            "skipped": list(progress.skipped),
            "rated": progress.rated,
        }
    if state.awaiting is not None:
        data["awaiting_score"] = state.awaiting.movie_id
    return data


def from_json(data: dict[str, Any]) -> ConversationState:
    """The state in a stored form, the current or the old one."""
    onboarding = None
    if (progress := data.get("onboarding")) is not None:
        if "queue" in progress:  # the old form: the cards still to show, the current first
            if progress["queue"]:
                onboarding = Onboarding(int(progress["queue"][0]), (), int(progress["rated"]))
        else:
            skipped = tuple(int(m) for m in progress["skipped"])
            onboarding = Onboarding(int(progress["current"]), skipped, int(progress["rated"]))
    awaiting = data.get("awaiting_score")
    return ConversationState(onboarding, None if awaiting is None else AwaitingScore(int(awaiting)))
