"""The ratings a model is fitted on: three parallel arrays, validated once at the edge."""

from __future__ import annotations

import numpy as np

from recommender.errors import BadRatings

MIN_RATING = 1.0
MAX_RATING = 10.0


def _as_int64_ids(name: str, a: np.ndarray) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise BadRatings(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        # Float ids such as 3.0 would silently merge 3.0 and 3.4; insist on integers.
        if (
            np.issubdtype(arr.dtype, np.floating)
            and np.all(np.isfinite(arr))
            and np.all(arr == np.round(arr))
        ):
            return arr.astype(np.int64)
        raise BadRatings(f"{name} must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


class Ratings:
    """Explicit ratings on our 1-10 scale (stars x 2): ``values[k]`` is user ``user_ids[k]``'s
    rating of movie ``movie_ids[k]``.

    Validation: the three arrays are one-dimensional and of the same length, ids are integers,
    values are finite and in ``[1, 10]``; otherwise :class:`BadRatings`. An empty ``Ratings`` is
    allowed (fitting on it is not). Duplicate (user, movie) pairs are rejected when fitting.
    """

    __slots__ = ("user_ids", "movie_ids", "values")

    def __init__(self, user_ids: np.ndarray, movie_ids: np.ndarray, values: np.ndarray) -> None:
        u = _as_int64_ids("user_ids", user_ids)
        m = _as_int64_ids("movie_ids", movie_ids)
        v = np.asarray(values)
        if v.ndim != 1:
            raise BadRatings(f"values must be one-dimensional, got shape {v.shape}")
        numeric = np.issubdtype(v.dtype, np.floating) or np.issubdtype(v.dtype, np.integer)
        if v.size and not numeric:
            raise BadRatings(f"values must be numbers, got dtype {v.dtype}")
        v = v.astype(np.float64, copy=False)
        if not (u.size == m.size == v.size):
            raise BadRatings(
                f"user_ids, movie_ids and values differ in length ({u.size}, {m.size}, {v.size})"
            )
        if v.size:
            if not np.all(np.isfinite(v)):
                raise BadRatings(f"{int(np.sum(~np.isfinite(v)))} rating values are NaN or inf")
            lo, hi = float(v.min()), float(v.max())
            if lo < MIN_RATING or hi > MAX_RATING:
                raise BadRatings(
                    f"rating values must be within [{MIN_RATING:g}, {MAX_RATING:g}] (the 1-10 "
                    f"scale, stars x 2); got min {lo:g}, max {hi:g}"
                )
        self.user_ids = u
        self.movie_ids = m
        self.values = v

    def __len__(self) -> int:
        return int(self.values.size)

    def __repr__(self) -> str:
        return f"Ratings(n={len(self)})"

    def subset(self, mask_or_index: np.ndarray) -> Ratings:
        """Return the ratings selected by a boolean mask or an index array."""
        return Ratings(
            self.user_ids[mask_or_index], self.movie_ids[mask_or_index], self.values[mask_or_index]
        )

    def split(self, fraction: float, seed: int) -> tuple[Ratings, Ratings]:
        """Split the rows at random into ``(rest, held_out)`` with ``fraction`` held out."""
        perm = np.random.default_rng(seed).permutation(len(self))
        k = int(round(fraction * len(self)))
        return self.subset(np.sort(perm[k:])), self.subset(np.sort(perm[:k]))
