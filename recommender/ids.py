"""External ids <-> internal rows, in one place.

External ids are arbitrary int64 (Telegram user ids up to ~1e13, negative synthetic ids); the
model works on dense rows ``0..n-1``. The mapping is a sorted id array and ``np.searchsorted``:
``O(log n)`` per lookup, no Python dict of millions of entries, and it saves as one array.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from recommender.errors import BadRatings, UnknownMovie


class IdIndex:
    """A sorted set of distinct int64 ids; row ``r`` holds ``ids[r]``."""

    __slots__ = ("ids",)

    def __init__(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError("ids must be one-dimensional")
        if ids.size > 1 and not np.all(ids[1:] > ids[:-1]):
            raise ValueError("ids must be strictly increasing")
        self.ids = ids

    @classmethod
    def from_ids(cls, ids: np.ndarray) -> tuple[IdIndex, np.ndarray]:
        """Build the index of the distinct ``ids`` and return it with the row of every input id."""
        uniq, rows = np.unique(np.asarray(ids, dtype=np.int64), return_inverse=True)
        return cls(uniq), rows.astype(np.int32, copy=False)

    def __len__(self) -> int:
        return int(self.ids.size)

    def lookup(self, ids: Iterable[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(rows, found)``: the row of each id, and a mask of the ids that are known.

        Rows of unknown ids are meaningless (0); callers filter them with ``found``.
        """
        q = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), dtype=np.int64)
        q = q.reshape(-1)
        if self.ids.size == 0:
            return np.zeros(q.size, dtype=np.int64), np.zeros(q.size, dtype=bool)
        pos = np.searchsorted(self.ids, q)
        pos_clipped = np.minimum(pos, self.ids.size - 1)
        found = self.ids[pos_clipped] == q
        return np.where(found, pos_clipped, 0), found

    def rows_strict(self, ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """Return the rows of ``ids``; raise :class:`UnknownMovie` naming the first unknown id."""
        rows, found = self.lookup(ids)
        if not found.all():
            q = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids)).reshape(-1)
            raise UnknownMovie(f"unknown movie id {int(q[~found][0])}")
        return rows

    def row(self, movie_id: int) -> int:
        """Return the row of one id or raise :class:`UnknownMovie`."""
        return int(self.rows_strict([int(movie_id)])[0])


def catalog_index(rated: np.ndarray, movie_ids: np.ndarray | None) -> IdIndex:
    """The movies a model knows: the rated ones plus a catalogue's `movie_ids` (may be None).
    Raises BadRatings when `movie_ids` is not a one-dimensional integer array."""
    catalog = rated
    if movie_ids is not None:
        extra = np.asarray(movie_ids)
        if extra.ndim != 1 or (extra.size and not np.issubdtype(extra.dtype, np.integer)):
            raise BadRatings("movie_ids must be a one-dimensional integer array")
        catalog = np.concatenate([catalog, extra.astype(np.int64)])
    return IdIndex(np.unique(catalog))
