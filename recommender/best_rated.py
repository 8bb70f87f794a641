"""The best-rated well-known movies, without a model: what /recommend serves while the first
model of a fresh database is still being fitted.

Of the candidates, the ``POOL`` most-rated (popularity: a film people know), ordered by the
damped mean rating

    mean_i = (sum_u r_ui + damping * mu) / (n_i + damping)

(``mu`` the mean of every rating), the same damped movie mean the rating model starts from
(recommender/config.py), so a film with a handful of perfect scores does not top the list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from recommender.config import ModelConfig
from recommender.onboarding import POOL, most_rated


def best_rated(
    counts_and_sums: Mapping[int, tuple[int, int]],
    candidates: Iterable[int],
    n: int,
    *,
    pool: int = POOL,
    damping: float = ModelConfig().damping,
) -> list[tuple[int, float]]:
    """The top ``n`` ``(movie_id, damped mean)`` of ``candidates`` (module docstring); movies
    nobody rated are left out."""
    total = sum(s for _, s in counts_and_sums.values())
    count = sum(c for c, _ in counts_and_sums.values())
    if count == 0:
        return []
    mu = total / count
    rated = {m: counts_and_sums[m][0] for m in candidates if m in counts_and_sums}
    means = {}
    for movie_id in most_rated(rated, pool):
        n_i, sum_i = counts_and_sums[movie_id]
        means[movie_id] = (sum_i + damping * mu) / (n_i + damping)
    return sorted(means.items(), key=lambda item: (-item[1], item[0]))[:n]
