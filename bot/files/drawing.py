"""How the pictures are drawn: ``taste_chart``, ``movie_map`` and ``group_chart`` turn the plain
data of bot/files/charts.py into PNG bytes and touch nothing else (no SQL, no model), with
matplotlib's object-oriented API on the Agg canvas (no pyplot, no global figure state), so
they can run in any worker thread, off the event loop."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from bot.files.charts import (
    TOP_PICKS,
    GroupData,
    MapData,
    TasteData,
)
from bot.ui import i18n
from bot.ui.genres import shown as shown_genre
from bot.ui.i18n import _, ngettext

# Drawn at 150 dpi: 7.2 inches is 1080 px, the width Telegram shows a photo at on most phones.
DPI = 150
WIDTH_INCHES = 7.2

INK = "#222222"
MUTED = "#8a8a8a"
ACCENT = "#1f6fb4"
COMMUNITY = "#c9c9c9"
ABOVE = "#2a7fbf"
BELOW = "#d0603c"
PICK = "#f2b01e"
MEMBER_COLOURS = ["#1f6fb4", "#d0603c", "#3a9d5d", "#8e5cb8", "#c2417f", "#6b6b6b", "#b58b00"]


def _figure(height_inches: float) -> Figure:
    figure = Figure(figsize=(WIDTH_INCHES, height_inches), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _plain(ax) -> None:
    """No chart junk: no frame but the baseline, light ticks."""
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(MUTED)
    ax.tick_params(colors=INK, labelsize=13, length=0)


def _text(target, x: float, y: float, text: str, **style):
    """Draw `text` as written: never as mathtext, so a name or title such as "$x^$" cannot
    break the picture (matplotlib parses text between two "$" as TeX)."""
    return target.text(x, y, text, parse_math=False, **style)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _heading(figure: Figure, y: float, text: str) -> None:
    _text(figure, 0.05, y, text, fontsize=18, color=INK, weight="bold", va="top")


def taste_chart(data: TasteData) -> bytes:
    """One portrait PNG, 1080 px wide: how you rate vs everyone, the genres you rate above and
    below everyone, and your top picks."""
    figure = _figure(10.6)
    _text(
        figure, 0.05, 0.975, _("Your movie taste"), fontsize=24, weight="bold", color=INK, va="top"
    )
    subtitle = ngettext(
        "from your {count} rating", "from your {count} ratings", data.n_ratings
    ).format(count=data.n_ratings)
    _text(
        figure,
        0.05,
        0.935,
        subtitle,
        fontsize=14,
        color=MUTED,
        va="top",
    )

    # 1. How you rate, against everyone: shares of each score, so the two scales compare.
    scores = np.arange(1, 11)
    user = np.asarray(data.user_counts, float)
    community = np.asarray(data.community_counts, float)
    you_mean = float((scores * user).sum() / max(user.sum(), 1))
    all_mean = float((scores * community).sum() / max(community.sum(), 1))
    how = _("How you rate: average {you}, everyone {everyone}").format(
        you=i18n.decimal(you_mean), everyone=i18n.decimal(all_mean)
    )
    _heading(figure, 0.885, how)
    ax = figure.add_axes((0.05, 0.655, 0.9, 0.175))
    ax.bar(
        scores,
        100 * community / max(community.sum(), 1),
        width=0.85,
        color=COMMUNITY,
        label=_("everyone"),
    )
    ax.bar(scores, 100 * user / max(user.sum(), 1), width=0.42, color=ACCENT, label=_("you"))
    ax.set_xticks(scores)
    ax.set_xlim(0.4, 10.6)
    ax.set_yticks([])
    _plain(ax)
    ax.legend(frameon=False, fontsize=13, loc="upper left", bbox_to_anchor=(0, 1.12))
    ax.set_xlabel(_("score (share of ratings)"), fontsize=13, color=MUTED)

    # 2. Genres, relative to everyone's ratings of the same movies.
    _heading(figure, 0.565, _("Genres you rate above / below everyone"))
    ax = figure.add_axes((0.38, 0.3, 0.57, 0.225))
    if data.genres:
        genres = list(data.genres)[::-1]
        leans = np.array([g.lean for g in genres])
        rows = np.arange(len(genres))
        ax.barh(rows, leans, height=0.62, color=[ABOVE if v >= 0 else BELOW for v in leans])
        ax.set_yticks(rows, [_short(f"{shown_genre(g.genre)} (n={g.n})", 24) for g in genres])
        reach = max(1.0, float(np.abs(leans).max()) * 1.4)
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-0.6, len(genres) - 0.4)
        ax.axvline(0, color=MUTED, linewidth=1)
        for k, v in enumerate(leans):
            _text(
                ax,
                v + (0.04 if v >= 0 else -0.04) * reach,
                k,
                ("+" if v >= 0 else "") + i18n.decimal(v),
                va="center",
                ha="left" if v >= 0 else "right",
                fontsize=13,
                color=INK,
            )
        ax.set_xticks([])
        _plain(ax)
        ax.spines["bottom"].set_visible(False)
        _text(
            figure,
            0.05,
            0.285,
            _("points above or below everyone's average for the same movies"),
            fontsize=12,
            color=MUTED,
            va="top",
        )
    else:
        ax.axis("off")
        _text(
            figure, 0.05, 0.45, _("Rate a few more movies to see this."), fontsize=14, color=MUTED
        )

    # 3. Top picks, as a list: text reads better than bars on a phone.
    _heading(figure, 0.225, _("Your top picks"))
    shown = data.picks[:TOP_PICKS]
    if not shown:
        _text(
            figure,
            0.05,
            0.17,
            _("Nothing left to recommend: you've seen it all!"),
            fontsize=14,
            color=MUTED,
            va="top",
        )
    for k, (label, score) in enumerate(shown):
        y = 0.17 - k * 0.034
        _text(figure, 0.05, y, f"{k + 1}.", fontsize=15, color=MUTED, va="center")
        _text(figure, 0.1, y, _short(label, 44), fontsize=15, color=INK, va="center")
        _text(
            figure,
            0.95,
            y,
            i18n.decimal(score),
            fontsize=15,
            color=ACCENT,
            va="center",
            ha="right",
            weight="bold",
        )
    return _png(figure)


def _place_labels(
    ax, items: list[tuple[float, float, str, dict]], renderer, keep_clear: Sequence[tuple]
) -> list[bool]:
    """Label points without overlaps: try a few offsets around each point, in order of
    importance, and leave out a label that fits nowhere. ``keep_clear``: (x, y, radius in
    pixels) of markers no label may cover. Returns which items got their label."""
    taken: list[Bbox] = []
    for x, y, r in keep_clear:
        px, py = ax.transData.transform((x, y))
        taken.append(Bbox.from_extents(px - r, py - r, px + r, py + r))
    inside = ax.get_window_extent(renderer)
    offsets = [(9, 4), (9, -16), (-9, 4), (-9, -16), (4, 14), (4, -26), (-4, 14), (-4, -26)]
    placed = []
    for x, y, text, style in items:
        placed.append(False)
        for dx, dy in offsets:
            label = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                parse_math=False,
                ha="left" if dx >= 0 else "right",
                **style,
            )
            box = label.get_window_extent(renderer).expanded(1.05, 1.15)
            fits = (
                box.x0 >= inside.x0
                and box.x1 <= inside.x1
                and box.y0 >= inside.y0
                and box.y1 <= inside.y1
            )
            if fits and not any(box.overlaps(t) for t in taken):
                taken.append(box)
                placed[-1] = True
                break
            label.remove()
    return placed


def movie_map(data: MapData) -> bytes:
    """A portrait PNG, 1080 px wide: movies liked by the same people sit together; your rated
    movies coloured by your score, your top picks as numbered stars (listed underneath), a few
    well-known movies labelled; with a focus movie, zoomed on it."""
    figure = _figure(9.8)
    ax = figure.add_axes((0.02, 0.27, 0.96, 0.62))
    ax.set_axis_off()
    focus = data.focus
    title = (
        _("Where your taste sits")
        if focus is None
        else _("Around {title}").format(title=_short(focus.label, 30))
    )
    _text(figure, 0.04, 0.975, title, fontsize=22, weight="bold", color=INK, va="top")
    _text(
        figure,
        0.04,
        0.935,
        _("Movies close together are liked by the same people."),
        fontsize=13,
        color=MUTED,
        va="top",
    )
    xy = data.xy
    ax.scatter(xy[:, 0], xy[:, 1], s=7, color="#dedede", linewidths=0, zorder=1)
    lo, hi = np.percentile(xy, 0.5, axis=0), np.percentile(xy, 99.5, axis=0)
    if focus is not None:
        # Zoom on the focus: half the map's span, centred on it.
        half = (hi - lo) / 4
        lo = np.array([focus.x, focus.y]) - half
        hi = np.array([focus.x, focus.y]) + half
    pad = (hi - lo) * 0.04
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])

    if data.rated:
        rated = np.array([(p.x, p.y, p.value) for p in data.rated])
        dots = ax.scatter(
            rated[:, 0],
            rated[:, 1],
            c=rated[:, 2],
            cmap="RdYlBu",
            vmin=1,
            vmax=10,
            s=80,
            edgecolors="white",
            linewidths=0.8,
            zorder=3,
        )
        bar_ax = figure.add_axes((0.6, 0.055, 0.35, 0.018))
        bar = figure.colorbar(dots, cax=bar_ax, orientation="horizontal", ticks=[1, 4, 7, 10])
        bar.outline.set_visible(False)
        bar.ax.tick_params(labelsize=12, length=0, colors=INK)
        _text(figure, 0.6, 0.085, "● " + _("your ratings"), fontsize=13, color=INK)
    if data.picks:
        picks = np.array([(p.x, p.y) for p in data.picks])
        ax.scatter(
            picks[:, 0],
            picks[:, 1],
            marker="*",
            s=460,
            color=PICK,
            edgecolors=INK,
            linewidths=0.9,
            zorder=4,
        )
    if focus is not None:
        ax.scatter(
            [focus.x], [focus.y], s=460, facecolors="none", edgecolors=INK, linewidths=2.2, zorder=5
        )

    # The picks, numbered on the map and named underneath, where long titles always fit.
    _text(
        figure,
        0.04,
        0.235,
        "★ " + _("Your top picks"),
        fontsize=15,
        weight="bold",
        color=INK,
        va="top",
    )
    for k, p in enumerate(data.picks):
        _text(
            figure,
            0.04,
            0.195 - k * 0.032,
            f"{k + 1}  {_short(p.label, 34)}  {i18n.decimal(p.value)}",
            fontsize=13,
            color=INK,
            va="top",
        )

    renderer = figure.canvas.get_renderer()
    items = []
    if focus is not None:
        items.append(
            (
                focus.x,
                focus.y,
                _short(focus.label, 30),
                {"fontsize": 15, "weight": "bold", "color": INK, "zorder": 6},
            )
        )
    for k, p in enumerate(data.picks):
        items.append(
            (p.x, p.y, str(k + 1), {"fontsize": 14, "weight": "bold", "color": INK, "zorder": 6})
        )
    top_rated = sorted(data.rated, key=lambda p: -(p.value or 0))[:3]
    for p in top_rated:
        items.append((p.x, p.y, _short(p.label, 24), {"fontsize": 12, "color": ACCENT}))
    for p in data.landmarks:
        items.append((p.x, p.y, _short(p.label, 24), {"fontsize": 12, "color": "#6e6e6e"}))
    clear = [(p.x, p.y, 15) for p in data.picks]
    clear += [(p.x, p.y, 7) for p in data.rated]
    if focus is not None:
        clear.append((focus.x, focus.y, 18))
    placed = _place_labels(ax, items, renderer, clear)
    # A landmark is drawn only when its name found room: an unnamed grey dot says nothing.
    first = len(items) - len(data.landmarks)
    named = [p for p, ok in zip(data.landmarks, placed[first:], strict=True) if ok]
    if named:
        ax.scatter(
            [p.x for p in named],
            [p.y for p in named],
            s=16,
            color="#8f8f8f",
            linewidths=0,
            zorder=2,
        )
    return _png(figure)


def group_chart(data: GroupData) -> bytes:
    """A dot plot, 1080 px wide: one row per pick, each member's predicted score as a coloured
    dot and the group's score as a black bar."""
    n = len(data.picks)
    height = 2.4 + 0.8 * n
    figure = _figure(height)
    top = 1 - 0.3 / height
    _text(
        figure, 0.05, top, _("Picks for the group"), fontsize=22, weight="bold", color=INK, va="top"
    )
    colours = [MEMBER_COLOURS[m % len(MEMBER_COLOURS)] for m in range(len(data.members))]
    # The legend: one coloured dot and name per member, in a row under the title.
    for m, name in enumerate(data.members[:8]):
        x = 0.05 + (m % 4) * 0.23
        y = top - (0.6 + 0.3 * (m // 4)) / height
        _text(figure, x, y, "●", fontsize=16, color=colours[m], va="center")
        _text(figure, x + 0.04, y, name, fontsize=13, color=INK, va="center")
    bottom = 0.75 / height
    ax = figure.add_axes(
        (0.05, bottom, 0.9, top - (1.3 if len(data.members) > 4 else 1.0) / height - bottom)
    )
    for k, (label, score, members) in enumerate(data.picks):
        y = n - 1 - k
        _text(ax, 1.0, y + 0.3, f"{k + 1}. {_short(label, 46)}", fontsize=14, color=INK)
        ax.plot([1, 10], [y, y], color="#eeeeee", linewidth=1, zorder=1)
        ax.scatter(
            members,
            [y] * len(members),
            s=110,
            c=colours[: len(members)],
            edgecolors="white",
            linewidths=0.8,
            zorder=3,
        )
        ax.plot([score, score], [y - 0.22, y + 0.22], color=INK, linewidth=3, zorder=4)
    ax.set_xlim(0.8, 10.2)
    ax.set_ylim(-0.5, n - 0.1)
    ax.set_yticks([])
    ax.set_xticks(range(1, 11))
    _plain(ax)
    ax.set_xlabel(_("predicted score (black bar: the group's score)"), fontsize=13, color=MUTED)
    return _png(figure)
