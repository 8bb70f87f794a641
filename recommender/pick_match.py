"""The figure shown beside a /recommend pick: its ranking score, read back for the picks.

:meth:`Model.recommend` orders by the ranking stage's score (what the user would choose to
watch, braked by the chance they like it) but returns the rating model's prediction, which
does not fall with that order ("2. Inception 7.6/10" above "3. The Dark Knight 8.8/10"). The
bot shows a match from the ranking score instead, so the figure agrees with the order, and the
predicted rating as a labelled second figure. Kept out of model.py, which is at its size limit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender.model import Model
from recommender.rating_model import UserProfile


def ranking_scores(
    model: Model, profile: UserProfile, movie_ids: Sequence[int], novelty: float = 0.0
) -> np.ndarray:
    """The score :meth:`Model.recommend` ranks ``movie_ids`` by for ``profile`` (with the same
    ``novelty``), in ``movie_ids`` order: ``(max(watch, 0) + prior) * popularity ** -novelty *
    like(r_hat)``. Each movie's score depends on that movie alone, so reading it for a few
    movies gives exactly the values the full ranking compared."""
    if not len(movie_ids):
        return np.zeros(0)
    rows = model._movies.rows_strict(np.asarray(movie_ids, dtype=np.int64))
    _rows, rank, _predicted = model._ranked_pool(profile, rows, rows.size, novelty)
    return np.asarray(rank, dtype=np.float64)


def matches(scores: np.ndarray) -> np.ndarray:
    """Each score as a share of the best one (the top pick = 1): a figure that falls with
    the ranking order and reads as "how well it fits, against your top pick"."""
    best = float(scores.max(initial=0.0))
    if best <= 0.0:
        return np.zeros(scores.size)
    return np.clip(scores / best, 0.0, 1.0)
