"""Paged lists: which rows a page shows, and the buttons to the newer and older pages."""

from __future__ import annotations

from bot.ui import callbacks
from bot.ui.i18n import _
from bot.ui.replies import Button


def page_window(total: int, page: int, size: int) -> tuple[int, int, int]:
    """For a list of `total` rows shown `size` a page: the page to show (at most the last),
    how many pages there are and the offset of its first row."""
    pages = (total + size - 1) // size
    page = min(page, pages)
    return page, pages, (page - 1) * size


def page_buttons(page: int, pages: int, verb: callbacks.Verb) -> tuple[Button, ...]:
    """Buttons to the newer and older pages of a paged list, where there are such pages."""
    nav = []
    if page > 1:
        nav.append(Button(_("◀ Newer"), callbacks.encode(verb, page - 1)))
    if page < pages:
        nav.append(Button(_("Older ▶"), callbacks.encode(verb, page + 1)))
    return tuple(nav)
