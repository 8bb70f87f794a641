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
    rating of movie ``movie_ids[k]``, given at ``timestamps[k]`` (Unix seconds; NaN where
    unknown, all NaN when no timestamps are given).

    Validation: the arrays are one-dimensional and of the same length, ids are integers,
    values are finite and in ``[1, 10]``, timestamps finite or NaN; otherwise
    :class:`BadRatings`. An empty ``Ratings`` is allowed (fitting on it is not). Duplicate
    (user, movie) pairs are rejected when fitting. The fit does not use the timestamps; the
    session term of a prediction does (see :meth:`recommender.Model.session_bias`).
    """

    __slots__ = ("user_ids", "movie_ids", "values", "timestamps")

    def __init__(
        self,
        user_ids: np.ndarray,
        movie_ids: np.ndarray,
        values: np.ndarray,
        timestamps: np.ndarray | None = None,
    ) -> None:
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
        if timestamps is None:
            t = np.full(v.size, np.nan)
        else:
            t = np.asarray(timestamps)
            if t.ndim != 1 or t.size != v.size:
                raise BadRatings(f"timestamps must be one value per rating, got shape {t.shape}")
            if t.size and not (
                np.issubdtype(t.dtype, np.floating) or np.issubdtype(t.dtype, np.integer)
            ):
                raise BadRatings(f"timestamps must be numbers, got dtype {t.dtype}")
            t = t.astype(np.float64)
            if np.any(np.isinf(t)):
                raise BadRatings("timestamps must be finite (NaN for unknown)")
        self.user_ids = u
        self.movie_ids = m
        self.values = v
        self.timestamps = t

    def __len__(self) -> int:
        return int(self.values.size)

    def __repr__(self) -> str:
        return f"Ratings(n={len(self)})"

    def subset(self, mask_or_index: np.ndarray) -> Ratings:
        """Return the ratings selected by a boolean mask or an index array."""
        return Ratings(
            self.user_ids[mask_or_index],
            self.movie_ids[mask_or_index],
            self.values[mask_or_index],
            self.timestamps[mask_or_index],
        )

    def split(self, fraction: float, seed: int) -> tuple[Ratings, Ratings]:
        """Split the rows at random into ``(rest, held_out)`` with ``fraction`` held out."""
        perm = np.random.default_rng(seed).permutation(len(self))
        k = int(round(fraction * len(self)))
        return self.subset(np.sort(perm[k:])), self.subset(np.sort(perm[:k]))
