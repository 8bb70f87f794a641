"""The session term: how far a user's ratings given around one moment sit from their usual level.

MovieLens users (and people tapping scores in a chat) rate in sittings, and the ratings of one
sitting deviate from what the user's biases and taste predict together: a generous mood, a page
of favourites, a scale used differently that evening. The term is a kernel-weighted mean of the
user's residuals around the time ``t`` of the prediction:

    sess(t) = sum_j k_j e_j / (sum_j k_j + damping),   k_j = exp(-|t - t_j| / tau)

It is one number per user and moment, so it shifts every movie's prediction alike: it sharpens
predicted scores (RMSE) and never changes which movies rank first.
"""

from __future__ import annotations

import numpy as np


def session_bias(
    times: np.ndarray, residuals: np.ndarray, at: float | np.ndarray, tau: float, damping: float
) -> np.ndarray:
    """``sess(t)`` for each ``t`` in ``at`` (a scalar or an array, Unix seconds) from the user's
    rating ``times`` (NaN = unknown, left out) and ``residuals``; 0 where ``t`` is NaN or no
    rating has a time."""
    t = np.atleast_1d(np.asarray(at, dtype=np.float64))
    known = ~np.isnan(times)
    if not known.any():
        return np.zeros(t.shape)
    gap = np.abs(t[:, None] - times[known][None, :])
    # exp(-inf) = 0: a NaN time (gap NaN) gets no weight on any rating.
    k = np.exp(-np.nan_to_num(gap, nan=np.inf) / tau)
    return (k @ residuals[known]) / (k.sum(axis=1) + damping)
