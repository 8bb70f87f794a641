"""Five fans talk to the bot, and every figure in its picks is checked against the order.

    python -m devtools.personas [--db catalog.db]

Each persona (Pixar, horror, 70s crime, arthouse, rom-com) rates eight films of the bundled
catalog; then each asks /recommend and /similar (for their favourite film), and /grouprec is
asked for all five together and for two far-apart tastes. `contradictions` parses the figures
out of a reply: a figure that falls out of the list's order counts unless the reply says why
(a labelled second figure, or a note on the line). The script prints the replies and the count;
tests/test_fan_replies.py asserts it is 0. Without --db the bundled catalog is imported into a
temporary database and the default model fitted (some seconds).
"""

from __future__ import annotations

import argparse
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.commands.conversation import Chat, Conversation, Sender
from bot.ui.html import to_plain

# (title as typed, score 1-10): the films each fan rates.
PERSONAS: dict[str, list[tuple[str, int]]] = {
    "pixar": [
        ("Toy Story 1995", 10),
        ("Toy Story 2 1999", 9),
        ("Finding Nemo 2003", 9),
        ("Monsters, Inc. 2001", 9),
        ("The Incredibles 2004", 8),
        ("Up 2009", 10),
        ("WALL-E 2008", 9),
        ("Ratatouille 2007", 8),
    ],
    "horror": [
        ("The Shining 1980", 10),
        ("Halloween 1978", 9),
        ("The Exorcist 1973", 9),
        ("Scream 1996", 8),
        ("The Ring 2002", 8),
        ("Saw 2004", 7),
        ("The Texas Chainsaw Massacre 1974", 9),
        ("Alien 1979", 9),
    ],
    "crime70s": [
        ("The Godfather 1972", 10),
        ("The Godfather: Part II 1974", 10),
        ("Taxi Driver 1976", 9),
        ("Chinatown 1974", 9),
        ("Dog Day Afternoon 1975", 9),
        ("The French Connection 1971", 8),
        ("Serpico 1973", 8),
        ("Mean Streets 1973", 8),
    ],
    "arthouse": [
        ("In the Mood For Love 2000", 10),
        ("Amelie 2001", 9),
        ("Persona 1966", 9),
        ("Stalker 1979", 10),
        ("Mulholland Drive 2001", 9),
        ("The Seventh Seal 1957", 9),
        ("Tokyo Story 1953", 9),
        ("Wings of Desire 1987", 8),
    ],
    "romcom": [
        ("When Harry Met Sally... 1989", 10),
        ("Notting Hill 1999", 9),
        ("Love Actually 2003", 9),
        ("Pretty Woman 1990", 8),
        ("Sleepless in Seattle 1993", 9),
        ("Bridget Jones's Diary 2001", 8),
        ("You've Got Mail 1998", 8),
        ("10 Things I Hate About You 1999", 9),
    ],
}
FIRST_ID = 7_100_001  # user ids unlike any MovieLens user's
GROUP_CHAT = -100_424_242
PAIR_CHAT = -100_424_243


@dataclass(frozen=True)
class Reply:
    """One reply to check: who asked, what, and the text a person reads."""

    who: str
    command: str
    text: str


# A pick line: "3. Title (1999) · <figures and labels> ..." (group members' lines start "   ").
_PICK = re.compile(r"^(?P<n>\d+)\. (?P<title>.+?) · (?P<rest>.*)$")
_MATCH = re.compile(r"^(?P<share>\d+)\s?% match$")
# The English labels a second figure may carry (it says what it is, so it may fall out of order).
_LABELLED = (
    re.compile(r"^you'd rate it \d+(\.\d)?/10$"),
    re.compile(r"^liked by \d+\s?% of (?!its ).+ fans$"),  # names whose fans
    re.compile(r"^average -?\d+(\.\d)?/10$"),
)
_WHY_NOT_IN_ORDER = "(placed lower: same series as a pick above)"
# What /grouprec's header must say for its labelled average to stand beside its order.
_GROUP_ORDER = "In order of what you would all most likely choose to watch and enjoy"


def contradictions(reply: Reply) -> list[str]:
    """The figures in `reply` (English) that contradict its order without saying why: a match
    percentage above the one before it with no note, a figure without a label, or (/grouprec)
    averages out of order under a header that does not say how it ranks."""
    found = []
    above = None
    averages = []
    for line in reply.text.splitlines():
        pick = _PICK.match(line)  # members' and "because" lines are indented: not picks
        if not pick:
            continue
        explained = line.endswith(_WHY_NOT_IN_ORDER)
        for part in pick["rest"].removesuffix(_WHY_NOT_IN_ORDER).strip().split(" · "):
            if match := _MATCH.match(part):
                share = int(match["share"])
                if above is not None and share > above and not explained:
                    found.append(f"{reply.who} {reply.command}: {line!r} above {above}%")
                above = share if above is None else min(above, share)
            elif any(label.match(part) for label in _LABELLED):
                if part.startswith("average "):
                    averages.append(float(part.removeprefix("average ").split("/")[0]))
            elif re.search(r"\d", part):  # genre lists hold no digits
                found.append(f"{reply.who} {reply.command}: unlabelled figure {part!r}")
    if averages != sorted(averages, reverse=True) and _GROUP_ORDER not in reply.text:
        found.append(f"{reply.who} {reply.command}: averages {averages} out of order, unexplained")
    return found


def talk(conversation: Conversation) -> list[Reply]:
    """Every persona rates its films, asks /recommend and /similar; then /grouprec for all
    five, and for the Pixar and horror fans together. Raises when a rating is not stored."""
    out = []
    senders = {}
    for k, (name, films) in enumerate(PERSONAS.items()):
        sender = Sender(FIRST_ID + k, name.title(), "en")
        senders[name] = sender
        private = Chat(sender.user_id)
        for title, score in films:
            said = _text(conversation, sender, private, f"/rate {title} {score}")
            if "✓" not in said:
                raise RuntimeError(f"{name}: /rate {title} {score} was not stored: {said!r}")
        out.append(Reply(name, "/recommend", _text(conversation, sender, private, "/recommend")))
        favourite = films[0][0]
        similar = _text(conversation, sender, private, f"/similar {favourite}")
        out.append(Reply(name, f"/similar {favourite}", similar))
        for chat in (GROUP_CHAT, PAIR_CHAT) if name in ("pixar", "horror") else (GROUP_CHAT,):
            _text(conversation, sender, Chat(chat, is_private=False), "/join")
    group = Chat(GROUP_CHAT, is_private=False)
    pair = Chat(PAIR_CHAT, is_private=False)
    out.append(
        Reply("all five", "/grouprec", _text(conversation, senders["pixar"], group, "/grouprec"))
    )
    out.append(
        Reply(
            "pixar+horror", "/grouprec", _text(conversation, senders["horror"], pair, "/grouprec")
        )
    )
    return out


def _text(conversation: Conversation, sender: Sender, chat: Chat, text: str) -> str:
    replies = conversation.on_text(sender, chat, text).replies
    return "\n".join(to_plain(reply.text) for reply in replies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a database holding the bundled catalog")
    args = parser.parse_args(argv)
    from bot.service import MovieService
    from moviebot.paths import bundled_dataset
    from moviebot.training import train
    from recommender import Model
    from storage.db import connect
    from storage.movielens import import_movielens

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "catalog.db"
        if args.db:
            db_path.write_bytes(args.db.read_bytes())
        else:
            import_movielens(connect(db_path), bundled_dataset())
        train(db_path, Path(tmp) / "model.npz")
        service = MovieService(connect(db_path), Model.load(Path(tmp) / "model.npz"))
        replies = talk(Conversation(service, bot_username="moviebot_personas_bot"))
    total = []
    for reply in replies:
        print(f"--- {reply.who}: {reply.command}\n{reply.text}\n")
        total += contradictions(reply)
    print(f"figures that contradict the order without saying why: {len(total)}")
    for problem in total:
        print("  " + problem)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
