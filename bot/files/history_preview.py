"""An import's preview: the plan (bot/files/history_import.py) as a person reads it before
tapping "Import"."""

from __future__ import annotations

from bot.files.import_plan import Plan
from bot.ui import i18n
from bot.ui.i18n import _, ngettext

EXAMPLES = 5  # titles shown per kind of problem in the preview


def preview_lines(plan: Plan, labels: dict[int, str]) -> list[str]:
    """The plan as a person reads it before tapping "Import"."""
    read = ngettext("I read {n} row ({sources}):", "I read {n} rows ({sources}):", plan.rows)
    lines = [read.format(n=i18n.number(plan.rows), sources=", ".join(_(s) for s in plan.sources))]
    if plan.new:
        n = len(plan.new)
        text = ngettext("✓ {n} new rating to import", "✓ {n} new ratings to import", n)
        lines.append(text.format(n=i18n.number(n)))
    if plan.save:
        n = len(plan.save)
        text = ngettext("✓ {n} movie for your watchlist", "✓ {n} movies for your watchlist", n)
        lines.append(text.format(n=i18n.number(n)))
    if plan.seen:
        n = len(plan.seen)
        text = ngettext("✓ {n} movie to mark seen", "✓ {n} movies to mark seen", n)
        lines.append(text.format(n=i18n.number(n)))
    if plan.same or plan.already:
        n = plan.same + plan.already
        text = ngettext("= {n} already here as in the file", "= {n} already here as in the file", n)
        lines.append(text.format(n=i18n.number(n)))
    if plan.different:
        examples = [
            _("{title}: {ours} here, {theirs} in the file").format(
                title=labels.get(m, m), ours=ours, theirs=file
            )
            for m, (ours, file) in list(plan.different.items())[:EXAMPLES]
        ]
        n = len(plan.different)
        text = ngettext(
            "≠ {n} rated differently here (I keep yours unless you choose the file's): ",
            "≠ {n} rated differently here (I keep yours unless you choose the file's): ",
            n,
        )
        lines.append(text.format(n=i18n.number(n)) + "; ".join(examples) + _more(plan.different))
    if plan.weak:
        examples = [
            _("{row} (closest: {candidate})").format(row=row, candidate=candidate)
            if candidate
            else str(row)
            for row, candidate in plan.weak[:EXAMPLES]
        ]
        n = len(plan.weak)
        text = ngettext(
            "? {n} not matched surely enough, left out: ",
            "? {n} not matched surely enough, left out: ",
            n,
        )
        lines.append(text.format(n=i18n.number(n)) + "; ".join(examples) + _more(plan.weak))
    if plan.not_in_catalog:
        n = len(plan.not_in_catalog)
        text = ngettext("✗ {n} not in my catalog: ", "✗ {n} not in my catalog: ", n)
        lines.append(_titles_left_out(text, plan.not_in_catalog))
    if plan.newer:
        n = len(plan.newer)
        text = ngettext(
            "✗ {n} newer than my catalog (it goes up to {year}): ",
            "✗ {n} newer than my catalog (it goes up to {year}): ",
            n,
        )
        lines.append(_titles_left_out(text, plan.newer, year=plan.newest_year))
    if plan.not_a_movie:
        n = len(plan.not_a_movie)
        text = ngettext(
            "✗ {n} not movies (series, episodes, games): ",
            "✗ {n} not movies (series, episodes, games): ",
            n,
        )
        lines.append(_titles_left_out(text, plan.not_a_movie))
    if plan.duplicates:
        n = plan.duplicates
        lines.append(
            ngettext("• {n} duplicate row", "• {n} duplicate rows", n).format(n=i18n.number(n))
        )
    if plan.unreadable:
        shown = ", ".join(str(n) for n in plan.unreadable[:EXAMPLES])
        shown += "..." if len(plan.unreadable) > EXAMPLES else ""
        n = len(plan.unreadable)
        text = ngettext(
            "! {n} unreadable row (line {lines})", "! {n} unreadable rows (line {lines})", n
        )
        lines.append(text.format(n=i18n.number(n), lines=shown))
    return [line[:1000] for line in lines]


def _titles_left_out(text: str, titles: list[str], **fields: object) -> str:
    """One "✗ n <reason>: " line (`text`, already chosen for n) with its first titles."""
    n = i18n.number(len(titles))
    return text.format(n=n, **fields) + "; ".join(titles[:EXAMPLES]) + _more(titles)


def _more(items: list | dict) -> str:
    """ " and 3 more" after the examples shown, when there are more."""
    if len(items) <= EXAMPLES:
        return ""
    n = len(items) - EXAMPLES
    return ngettext(" and {n} more", " and {n} more", n).format(n=i18n.number(n))
