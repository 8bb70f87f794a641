"""The "how adventurous" levels of /settings as the ranking stage's novelty knob.

``Model.recommend(..., novelty=x)`` weighs each movie's ranking score by ``popularity ** -x``
(popularity: the movie's share of the most-rated movie's ratings). The levels are the stored
setting (storage/settings.py: -1 popular, 0 balanced, 1 hidden gems); the exponents were chosen
on validation (``python -m recommender.tune_similar``; docs/history/similar-round1.md).
"""

from __future__ import annotations

NOVELTY_LEVELS: dict[int, float] = {-1: -0.5, 0: 0.0, 1: 0.6}
