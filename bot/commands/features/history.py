"""History in and out: /import (send an IMDb or Letterboxd export, see what it holds, tap to
import it) and /export (your ratings and watchlist as files for Letterboxd and IMDb)."""

from __future__ import annotations

from bot.commands.router import Context, Router, Where
from bot.files import history_import
from bot.ui import callbacks
from bot.ui.callbacks import Callback, Verb
from bot.ui.html import esc
from bot.ui.i18n import N_, _, ngettext
from bot.ui.replies import Button, Document, Outcome, Reply, split_text
from storage import imports, ratings, watchlist

router = Router()


@router.command(
    "import",
    Where.PRIVATE,
    rank=130,
    menu=N_("Bring your IMDb or Letterboxd ratings"),
    help=N_("/import - bring your ratings from IMDb or Letterboxd (send me the export file)"),
)
def import_command(ctx: Context, args: str) -> Outcome:
    """Say how to bring a history from IMDb or Letterboxd."""
    return Outcome.say(
        _(
            "Send me your ratings as a file and I'll import them:\n"
            "• IMDb: imdb.com → Your ratings → ⋯ → Export, then send the ratings CSV.\n"
            "• Letterboxd: Settings → Data → Export your data, then send the .zip (or its "
            "ratings.csv, watched.csv or watchlist.csv).\n"
            "I show what I found before anything is saved."
        )
    )


@router.command(
    "export",
    Where.PRIVATE,
    rank=140,
    menu=N_("Your ratings as files for Letterboxd, IMDb"),
    help=N_("/export - your ratings and watchlist as files for Letterboxd and IMDb"),
)
def export(ctx: Context, args: str) -> Outcome:
    """Send the sender's ratings and watchlist as files for Letterboxd and IMDb tools."""
    count = ratings.count_user_ratings(ctx.db, ctx.user_id)
    saved = watchlist.count_watchlist(ctx.db, ctx.user_id)
    if count == 0 and saved == 0:
        return Outcome.say(_("You have no ratings or watchlist to export yet."))
    replies = []
    if count:
        replies.append(
            Reply(
                ngettext(
                    "Your {count} rating for Letterboxd (letterboxd.com/import).",
                    "Your {count} ratings for Letterboxd (letterboxd.com/import).",
                    count,
                ).format(count=count),
                document=Document("letterboxd", ctx.user_id),
            )
        )
        replies.append(
            Reply(
                _("The same in IMDb's export layout (movies with an IMDb id)."),
                document=Document("imdb", ctx.user_id),
            )
        )
    if saved:
        replies.append(
            Reply(
                _("Your watchlist ({saved}) for Letterboxd's watchlist import.").format(
                    saved=saved
                ),
                document=Document("letterboxd-watchlist", ctx.user_id),
            )
        )
    return Outcome(replies=replies)


@router.on("document")
def on_document(
    ctx: Context, file_name: str, data: bytes, prepared: history_import.Prepared | None = None
) -> Outcome:
    """Answer a file sent in a private chat (only there): preview the IMDb or Letterboxd export it
    holds, with a button that imports it (a group's files are not for the bot).

    `prepared`: the file already read and planned (the Telegram adapter does that in a worker,
    off the database thread: bot/telegram/import_desk.py); else it is done here."""
    if prepared is None:
        matcher = ctx.service.history_matcher
        history = history_import.current_history(ctx.db, ctx.user_id)
        prepared = history_import.prepare(data, file_name, matcher, history)
    if prepared.refused == "busy":
        return Outcome.say(
            _("I'm still reading the file you sent before. Send this one once I've answered.")
        )
    if prepared.refused == "repeat":
        return Outcome.say(
            _(
                "You sent me this same file {seconds} s ago: its preview is above. To read it "
                "again, send it in a minute."
            ).format(seconds=prepared.seconds)
        )
    if prepared.plan is None:
        return Outcome.say(esc(prepared.error or ""))
    plan = prepared.plan
    # The file's own titles are in these lines: plain text, escaped for HTML.
    lines = [esc(line) for line in prepared.lines]
    if not plan.has_changes:
        imports.drop_pending(ctx.db, ctx.user_id)
        lines.append(_("Nothing to import: everything I can use from this file is here already."))
        return Outcome(replies=[Reply(chunk) for chunk in split_text(lines)])
    imports.save_pending(ctx.db, ctx.user_id, plan.to_json())
    lines.append(
        _("Tap to import (within {minutes} minutes).").format(minutes=imports.PENDING_MINUTES)
    )
    buttons = [Button(_("Import"), callbacks.encode(Verb.IMPORT, plan.id, 1))]
    if plan.different:
        n = len(plan.different)
        label = ngettext(
            "Import, use the file's {n} score", "Import, use the file's {n} scores", n
        ).format(n=n)
        buttons.append(Button(label, callbacks.encode(Verb.IMPORT, plan.id, 2)))
    rows_of_buttons = tuple((b,) for b in buttons) + (
        (Button(_("Cancel"), callbacks.encode(Verb.IMPORT, plan.id, 0)),),
    )
    chunks = split_text(lines)
    replies = [Reply(chunk) for chunk in chunks[:-1]]
    replies.append(Reply(chunks[-1], rows_of_buttons))
    return Outcome(replies=replies)


@router.on("document_failed")
def on_document_failed(ctx: Context, too_large: bool) -> Outcome:
    """Answer a file that could not be downloaded: over Telegram's getFile cap, or
    Telegram did not hand it over."""
    if too_large:
        return Outcome.say(esc(history_import.too_large_message()))
    return Outcome.say(_("I couldn't fetch that file from Telegram. Please send it again."))


@router.tap(Verb.IMPORT, personal=True)
def tap_import(ctx: Context, cb: Callback) -> Outcome:
    """Apply the previewed import in one transaction (or drop it); a second tap on the same
    preview says what the first one imported."""
    plan = imports.pending(ctx.db, ctx.user_id)
    if plan is None or plan["id"] != cb.target:
        return Outcome(
            edit=Reply(_("That import has expired or was replaced: send the file again.")),
            toast=_("Nothing imported"),
        )
    if "applied" in plan:
        done = imports.Applied(**plan["applied"])
        return Outcome(
            edit=Reply(_("Already imported: {what}.").format(what=_applied_text(done))),
            toast=_("Already imported"),
        )
    if cb.value == 0:
        imports.drop_pending(ctx.db, ctx.user_id)
        return Outcome(edit=Reply(_("Okay, I imported nothing.")), toast=_("Cancelled"))
    done = imports.apply_import(
        ctx.db,
        ctx.user_id,
        {int(k): v for k, v in plan["new"].items()},
        {int(k): v for k, v in plan["replace"].items()} if cb.value == 2 else {},
        plan["save"],
        plan["seen"],
        plan_id=plan["id"],
    )
    return Outcome(
        edit=Reply(
            _("Imported: {what}. /recommend takes them into account now.").format(
                what=_applied_text(done)
            )
        ),
        toast=_("Imported"),
    )


def _applied_text(done: imports.Applied) -> str:
    """ "12 new ratings, 3 on your watchlist": what an import changed."""
    parts = [ngettext("{n} new rating", "{n} new ratings", done.rated).format(n=done.rated)]
    if done.replaced:
        parts.append(
            ngettext("{n} replaced", "{n} replaced", done.replaced).format(n=done.replaced)
        )
    if done.saved:
        parts.append(
            ngettext("{n} on your watchlist", "{n} on your watchlist", done.saved).format(
                n=done.saved
            )
        )
    if done.seen:
        parts.append(ngettext("{n} marked seen", "{n} marked seen", done.seen).format(n=done.seen))
    return ", ".join(parts)
