"""The baseline every other term of the rating model is fitted on: damped movie and user biases.

    mu + b_i,  b_i = sum_u (r_ui - mu) / (n_i + damping)             the damped movie mean
    b_u = sum_i (r_ui - mu - b_i) / (n_u + user_damping)             (0 without ``user_bias``)

Shared by the local fit (:meth:`recommender.Model.fit`) and the Spark engine, so both serve the
same baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.config import ModelConfig


@dataclass(frozen=True)
class Biases:
    """The baseline every other term is fitted on: ``mu``, ``b_i``, ``b_u`` and the residuals."""

    mu: float
    item_counts: np.ndarray
    item_bias: np.ndarray
    user_bias: np.ndarray
    residuals: np.ndarray  # y_ui = r_ui - mu - b_i - b_u, in the order of the values


def fit_biases(
    values: np.ndarray,
    movie_rows: np.ndarray,
    user_rows: np.ndarray,
    n_movies: int,
    n_users: int,
    config: ModelConfig,
) -> Biases:
    """``b_i = sum_u (r_ui - mu) / (n_i + damping)`` (so the damped movie mean is ``mu + b_i``)
    and ``b_u = sum_i (r_ui - mu - b_i) / (n_u + user_damping)`` (zero without ``user_bias``).
    Shared by the local fit and the Spark engine, so both serve the same baseline."""
    mu = float(values.mean())
    item_counts = np.bincount(movie_rows, minlength=n_movies).astype(np.int64)
    sums = np.bincount(movie_rows, weights=values - mu, minlength=n_movies)
    denom = item_counts + config.damping
    item_bias = np.divide(sums, denom, out=np.zeros(n_movies), where=denom > 0)
    y = values - mu - item_bias[movie_rows]
    if config.user_bias:
        user_counts = np.bincount(user_rows, minlength=n_users)
        user_sums = np.bincount(user_rows, weights=y, minlength=n_users)
        udenom = user_counts + config.user_damping
        user_bias = np.divide(user_sums, udenom, out=np.zeros(n_users), where=udenom > 0)
    else:
        user_bias = np.zeros(n_users)
    return Biases(mu, item_counts, item_bias, user_bias, y - user_bias[user_rows])
