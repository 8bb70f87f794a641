"""Synthetic ratings for scale tests: power-law popularity and activity, planted low-rank taste.

    r_ui = round(clip(5.5 + b_i + b_u + 1.5 * p_u . q_i / sqrt(rank) + noise, 1, 10))

with ``p_u, q_i ~ N(0, I)``, ``b_i ~ N(0, 1)``, ``b_u ~ N(0, 0.7^2)``, ``noise ~ N(0, 1.5^2)``;
movie ``i`` (by popularity rank) is drawn with probability ``~ (i + 10)^-popularity_exponent``
and users with log-normal activity, so a few movies and users carry most ratings, as in
MovieLens. Pairs are distinct.
"""

from __future__ import annotations

import numpy as np

from recommender.ratings import Ratings


def synthetic_ratings(
    n_ratings: int,
    n_users: int,
    n_movies: int,
    rank: int = 10,
    seed: int = 0,
    popularity_exponent: float = 1.0,
) -> Ratings:
    """Return ``n_ratings`` distinct (user, movie) ratings on the 1-10 scale; see module doc."""
    if n_ratings > n_users * n_movies // 2:
        raise ValueError("too many ratings for the matrix size (keep density below 50%)")
    rng = np.random.default_rng(seed)
    pop = (np.arange(n_movies) + 10.0) ** -popularity_exponent
    pop /= pop.sum()
    act = rng.lognormal(0.0, 1.0, n_users)
    act /= act.sum()
    keys = np.zeros(0, dtype=np.int64)
    need = n_ratings
    while keys.size < n_ratings:
        draw = int(need * 1.3) + 1000
        u = rng.choice(n_users, size=draw, p=act)
        m = rng.choice(n_movies, size=draw, p=pop)
        keys = np.unique(np.concatenate([keys, u.astype(np.int64) * n_movies + m]))
        need = n_ratings - keys.size
    keys = rng.permutation(keys)[:n_ratings]
    users, movies = keys // n_movies, keys % n_movies
    del keys
    p = rng.normal(size=(n_users, rank)).astype(np.float32)
    q = rng.normal(size=(n_movies, rank)).astype(np.float32)
    b_u = rng.normal(0, 0.7, n_users)
    b_i = rng.normal(0, 1.0, n_movies)
    values = np.empty(n_ratings)
    step = 2_000_000
    for s in range(0, n_ratings, step):
        uu, mm = users[s : s + step], movies[s : s + step]
        taste = np.einsum("ij,ij->i", p[uu], q[mm]) / np.sqrt(rank)
        raw = 5.5 + b_i[mm] + b_u[uu] + 1.5 * taste + rng.normal(0, 1.5, uu.size)
        values[s : s + step] = np.clip(np.round(raw), 1, 10)
    # Spread ids like the real world: sparse movie ids, Telegram-sized (and negative) user ids.
    return Ratings(users * 7919 - 10**9, movies * 3 + 1, values)
