"""The one place reply text becomes Telegram HTML (parse_mode HTML on every send and edit).

Every reply text is HTML. Anything that comes from a person (a name, a typed title) or from
the catalog (titles, genres) goes through `esc` (or `link`, `bold`, which escape for you);
only markup made here is left as it is. Telegram refuses a message whose HTML it cannot
parse ("can't parse entities"), so a title like "Tom & Jerry" or a name like "<b>" must be
escaped, and it then arrives exactly as written.

    esc("Tom & Jerry") == "Tom &amp; Jerry"
    link("Ted (2012)", "https://www.imdb.com/title/tt1637725/")
        == '<a href="https://www.imdb.com/title/tt1637725/">Ted (2012)</a>'
    to_plain("<b>Tom &amp; Jerry</b>") == "Tom & Jerry"   # the console chat's view
"""

from __future__ import annotations

import html
import re

# Telegram's HTML: the tags it parses, all others are refused (devtools/fake_telegram too).
_TAG = re.compile(r"<[^>]*>")


def esc(text: object) -> str:
    """`text` as HTML text: &, < and > escaped (quotes are fine outside attributes)."""
    return html.escape(str(text), quote=False)


def link(text: object, url: str) -> str:
    """A link showing `text` (escaped) to `url` (escaped for the attribute)."""
    return f'<a href="{html.escape(url, quote=True)}">{esc(text)}</a>'


def bold(text: object) -> str:
    """`text` (escaped) in bold."""
    return f"<b>{esc(text)}</b>"


def italic(text: object) -> str:
    """`text` (escaped) in italics."""
    return f"<i>{esc(text)}</i>"


def to_plain(text: str) -> str:
    """What a person reads of HTML `text`: tags dropped, entities unescaped (console, toasts)."""
    return html.unescape(_TAG.sub("", text))
