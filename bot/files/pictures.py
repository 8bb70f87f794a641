"""Drawing the charts a reply asks for: gather the data (database thread), draw (any thread).

Both steps speak the picture's language (the one it was asked for in): its labels and the
text that says why it could not be drawn.
"""

from __future__ import annotations

from bot.files import charts, drawing
from bot.service import MovieService
from bot.ui import i18n
from bot.ui.i18n import _
from bot.ui.replies import Picture

MAX_CAPTION = 1024  # Telegram's limit for a photo caption


def gather(service: MovieService, picture: Picture) -> object:
    """The plain data the chart needs; raises charts.ChartError when it cannot be drawn."""
    if not service.ready:
        raise charts.ModelLearning
    with i18n.speaking(picture.language):
        if picture.kind == "taste":
            return charts.taste_data(service, picture.subject)
        if picture.kind == "map":
            return charts.map_data(service, picture.subject, picture.focus)
        if picture.kind == "group":
            return charts.group_data(service, picture.subject)
    raise charts.ChartError(f"no chart called {picture.kind!r}")


def draw(picture: Picture, data: object) -> bytes:
    """The PNG for `data` (from `gather`); pure drawing, safe off the event loop."""
    drawers = {
        "taste": drawing.taste_chart,
        "map": drawing.movie_map,
        "group": drawing.group_chart,
    }
    with i18n.speaking(picture.language):
        return drawers[picture.kind](data)


def instead_of_picture(error: charts.ChartError, caption: str, language: str) -> str:
    """What to say, in `language`, when a chart cannot be drawn."""
    with i18n.speaking(language):
        if isinstance(error, charts.NoRatings):
            reason = _("Rate a few movies first (/start, or /rate Ted 8), then I can draw this.")
        elif isinstance(error, charts.MapUnavailable):
            reason = _("The movie map isn't ready yet: I need more ratings.")
        elif isinstance(error, charts.ModelLearning):
            reason = _("My model is still learning (about a minute); ask me again in a moment.")
        elif isinstance(error, charts.EmptyPool):
            reason = _("There is nobody in this chat's pool to draw picks for: /join first.")
        else:
            reason = _("I couldn't draw that picture.")
    return f"{caption}\n\n{reason}"
