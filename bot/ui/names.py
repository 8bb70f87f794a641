"""Display names as Telegram sends them, made safe to store, show and draw.

A Telegram name is any text a person chose: it can be only spaces (a space, NBSP, tab),
invisible (zero-width characters, bidi overrides), control characters, a pile of combining
marks, or hundreds of characters. `clean_name` keeps what can be read, on one line, capped;
`first_name` is the word the bot greets and lists people by, with a placeholder that names
nobody (never the user id) when nothing readable is left.
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 64
MAX_FIRST_NAME = 40
# Combining marks beyond this many on one character are "Zalgo" text: they pile up over the
# lines above and below.
MAX_MARKS = 2
SOMEONE = "Someone"


def clean_name(raw: object) -> str | None:
    """`raw` on one line without control, format or unassigned characters, runs of spaces as
    one, at most MAX_MARKS combining marks per character, at most MAX_NAME characters; None
    when nothing readable (a letter, digit, symbol or punctuation) is left."""
    if not isinstance(raw, str):
        return None
    kept: list[str] = []
    marks = 0
    for ch in raw:
        category = unicodedata.category(ch)
        if category[0] == "Z" or ch in "\t\n\r\v\f":
            kept.append(" ")
            marks = 0
        elif category[0] == "M":
            marks += 1
            if marks <= MAX_MARKS and kept and kept[-1] != " ":
                kept.append(ch)
        elif category[0] == "C":
            # Control, format (zero-width, bidi overrides; an emoji family falls apart into
            # its people, still readable), surrogates, private use, unassigned.
            continue
        else:
            kept.append(ch)
            marks = 0
    text = " ".join("".join(kept).split())[:MAX_NAME].rstrip()
    if not any(unicodedata.category(ch)[0] in "LNSP" for ch in text):
        return None
    return text


def first_name(raw: object, fallback: str = SOMEONE) -> str:
    """The first readable word of the cleaned name (at most MAX_FIRST_NAME characters), or
    `fallback`."""
    for word in (clean_name(raw) or "").split():
        if clean_name(word) is not None:
            return word[:MAX_FIRST_NAME]
    return fallback
