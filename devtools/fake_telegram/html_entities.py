"""Telegram's HTML parse mode, strictly: the text a message shows and its entities, or the error.

Telegram parses ``parse_mode=HTML`` text into plain text plus MessageEntity objects and answers
``400 Bad Request: can't parse entities: ...`` when it cannot. What it accepts (Bot API,
"HTML style"): the tags below, properly nested and closed; ``<a href="...">``; the named
entities ``&lt; &gt; &amp; &quot;`` and numeric ones. This parser refuses everything else,
including a bare ``&`` that starts no entity (Telegram keeps some of those, but a bot that sends
one has an escaping bug: the next title with ``&lt`` in it would lose characters).

    parse_html('<b>Tom &amp; Jerry</b>') == ("Tom & Jerry", [{"type": "bold", "offset": 0,
                                                              "length": 11}])
    parse_html("a < b")  # raises HtmlError("Unsupported start tag ... at byte offset 2")
"""

from __future__ import annotations

import html
import re
from typing import Any

PREFIX = "Bad Request: can't parse entities: "

# tag -> entity type ("" for tags whose type depends on attributes)
TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",  # only with class="tg-spoiler"
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|([A-Za-z]+));")
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR = re.compile(r"\s*([A-Za-z-]+)\s*(?:=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")


class HtmlError(ValueError):
    """Text Telegram would refuse to parse; ``str()`` is the detail after ``PREFIX``."""


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The visible text and the entities of HTML ``text``; HtmlError when Telegram refuses it."""
    out: list[str] = []
    out_len = 0  # UTF-16 length of the output so far
    stack: list[tuple[str, int, dict[str, Any]]] = []  # (tag, start offset, entity)
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            match = _ENTITY.match(text, i)
            decoded = _decode(match) if match else None
            if decoded is None:
                raise HtmlError(
                    f"Unsupported HTML entity at byte offset {_byte_offset(text, i)}: escape "
                    "'&' as &amp;"
                )
            out.append(decoded)
            out_len += _utf16(decoded)
            i = match.end()
            continue
        if char == ">":
            raise HtmlError(f"Unexpected '>' at byte offset {_byte_offset(text, i)}")
        if char != "<":
            out.append(char)
            out_len += _utf16(char)
            i += 1
            continue
        end = text.find(">", i)
        if end < 0:
            raise HtmlError(f"Unclosed start tag at byte offset {_byte_offset(text, i)}")
        body = text[i + 1 : end]
        if body.startswith("/"):
            name = body[1:].strip().lower()
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            open_tag, start, entity = stack.pop()
            if name != open_tag:
                raise HtmlError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, i)}, expected "
                    f'"</{open_tag}>", found "</{name}>"'
                )
            if out_len > start:
                entity["offset"], entity["length"] = start, out_len - start
                entities.append(entity)
        else:
            stack.append(_open_tag(body, _byte_offset(text, i), out_len))
        i = end + 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _open_tag(body: str, at: int, offset: int) -> tuple[str, int, dict[str, Any]]:
    """(tag, offset, entity without position) for the start tag ``<body>``."""
    match = _TAG_NAME.match(body)
    if match is None:
        raise HtmlError(f'Unsupported start tag "{body[:20]}" at byte offset {at}')
    name = match.group().lower()
    if name not in TAGS:
        raise HtmlError(f'Unsupported start tag "{name}" at byte offset {at}')
    attrs: dict[str, str] = {}
    rest = body[match.end() :]
    pos = 0
    while rest[pos:].strip():
        attr = _ATTR.match(rest, pos)
        if attr is None or attr.end() == pos:
            raise HtmlError(f'Empty attribute name in the tag "{name}" at byte offset {at}')
        value = attr.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        attrs[attr.group(1).lower()] = html.unescape(value)
        pos = attr.end()
    entity: dict[str, Any] = {"type": TAGS[name]}
    if name == "a":
        url = attrs.get("href", "")
        if not url:
            raise HtmlError(f'Tag "a" must have a non-empty "href" attribute at byte offset {at}')
        entity["url"] = url
    elif name == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    return name, offset, entity


def _decode(match: re.Match[str]) -> str | None:
    """The character of one ``&...;`` entity, or None when Telegram does not know it."""
    decimal, hexadecimal, named = match.groups()
    if named is not None:
        return _NAMED.get(named)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def strip_entities(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims the text's surrounding whitespace; entities move (and shrink) with it."""
    leading = _utf16(text) - _utf16(text.lstrip())
    stripped = text.strip()
    total = _utf16(stripped)
    moved = []
    for entity in entities:
        start = max(entity["offset"] - leading, 0)
        end = min(entity["offset"] + entity["length"] - leading, total)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return stripped, moved
