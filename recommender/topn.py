"""Top-N list metrics and the list references they are compared with (popularity, EASE).

For a test user with relevant movies ``R`` (rated 4 stars or more in test) and a shown list
``L`` (10 movies they did not rate in train):

    P@10    = |L ∩ R| / 10
    NDCG@10 = sum_{k <= 10, L_k in R} 1/log2(k+1) / sum_{k <= min(10, |R|)} 1/log2(k+1)

averaged over users with at least one relevant movie. Beside them, what a list looks like:

* ``genre_diversity``: mean over lists of the mean pairwise Jaccard distance of the movies'
  genre sets (0: all alike, 1: no genre in common);
* ``mean_popularity``: mean number of train ratings of a listed movie (a re-rank that shows only
  blockbusters is visible here);
* ``coverage``: the share of the catalog that appears in any list;
* ``novelty``: mean ``-log2(n_i / n_users)`` of the listed movies (higher: less obvious picks);
* ``max_franchise``: the most movies one franchise has in any list (the rule is 2).

Item to item (/similar): for up to 5 movies each test user liked in train (4+ stars, 5+ train
ratings), the 10 nearest movies the user has not rated; ``hit@10`` is the share of those lists
with at least one of the user's relevant test movies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from recommender.diversity import franchise_counts
from recommender.ranking import ease_weights

TOP_K = 10
SIMILAR_SOURCES = 5
SIMILAR_MIN_RATINGS = 5


def ndcg_discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


def precision_ndcg(lists: Sequence[Sequence[int]], relevant: Sequence[set[int]]) -> dict:
    """``precision_at_10`` and ``ndcg_at_10`` over users with a relevant movie."""
    disc = ndcg_discounts(TOP_K)
    precs, ndcgs = [], []
    for top, rel in zip(lists, relevant, strict=True):
        if not rel:
            continue
        hits = np.array([int(m) in rel for m in list(top)[:TOP_K]], dtype=float)
        precs.append(hits.sum() / TOP_K)
        ideal = disc[: min(TOP_K, len(rel))].sum()
        ndcgs.append(float(hits @ disc[: hits.size]) / ideal)
    if not precs:
        return {"precision_at_10": float("nan"), "ndcg_at_10": float("nan")}
    return {"precision_at_10": float(np.mean(precs)), "ndcg_at_10": float(np.mean(ndcgs))}


def list_profile(
    lists: Sequence[Sequence[int]],
    counts: Mapping[int, int],
    n_users: int,
    n_catalog: int,
    genres: Mapping[int, frozenset[str]] | None = None,
    franchise_of: Mapping[int, str] | None = None,
) -> dict:
    """What the lists look like (see the module docstring); genre and franchise figures only
    when ``genres`` / ``franchise_of`` are given."""
    shown = [m for top in lists for m in list(top)[:TOP_K]]
    pops = np.array([counts.get(m, 0) for m in shown], dtype=float)
    out = {
        "mean_popularity": float(pops.mean()) if pops.size else float("nan"),
        "coverage": len(set(shown)) / max(1, n_catalog),
        "novelty": float(np.mean(-np.log2(np.maximum(pops, 1) / max(1, n_users))))
        if pops.size
        else float("nan"),
    }
    if genres is not None:
        out["genre_diversity"] = float(
            np.mean([_genre_distance([genres.get(m, frozenset()) for m in top]) for top in lists])
        )
    if franchise_of is not None:
        out["max_franchise"] = max(
            (max(franchise_counts(list(top)[:TOP_K], franchise_of).values(), default=0))
            for top in lists
        )
    return out


def _genre_distance(sets: list[frozenset[str]]) -> float:
    dists = []
    for a in range(len(sets)):
        for b in range(a + 1, len(sets)):
            union = sets[a] | sets[b]
            dists.append(1.0 - len(sets[a] & sets[b]) / len(union) if union else 0.0)
    return float(np.mean(dists)) if dists else 0.0


def similar_hit_rate(
    sources: Sequence[tuple[int, np.ndarray, set[int]]],
    nearest: Callable[[int, np.ndarray], Sequence[int]],
) -> float:
    """``hit@10`` of ``nearest(movie, rated)`` (the 10 nearest movies, the user's ``rated``
    left out) over ``(liked movie, rated movies, relevant test movies)`` triples."""
    hits = [bool(set(nearest(m, rated)) & rel) for m, rated, rel in sources]
    return float(np.mean(hits)) if hits else float("nan")


class ReferenceItems:
    """Who-rated-what over the train catalog: the popularity and EASE references and the
    co-occurrence cosine, all on the same 0/1 matrix."""

    def __init__(self, users: np.ndarray, movies: np.ndarray, catalog: np.ndarray) -> None:
        u = np.unique(users, return_inverse=True)[1]
        rows = np.searchsorted(catalog, movies)
        n = catalog.size
        self.catalog = catalog
        self.x = sp.csr_matrix(
            (np.ones(rows.size, dtype=np.float32), (u, rows)), shape=(int(u.max()) + 1, n)
        )
        self.counts = np.bincount(rows, minlength=n)
        self._seen = np.flatnonzero(self.counts > 0)
        self._gram: np.ndarray | None = None
        self._ease: dict[float, np.ndarray] = {}

    def gram(self) -> np.ndarray:
        """``X^T X`` over the movies with a train rating (dense, float64)."""
        if self._gram is None:
            xs = self.x[:, self._seen].tocsc()
            self._gram = (xs.T @ xs).toarray().astype(np.float64)
        return self._gram

    def ease(self, reg: float) -> np.ndarray:
        """EASE's item weights over the movies with a train rating (Steck 2019)."""
        if reg not in self._ease:
            self._ease[reg] = ease_weights(self.gram(), reg)
        return self._ease[reg]

    def rows(self, movie_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.catalog, movie_ids)

    def ease_scores(self, rated_rows: np.ndarray, reg: float) -> np.ndarray:
        """EASE's scores over the catalog for a user who rated ``rated_rows``."""
        pos = np.searchsorted(self._seen, rated_rows)
        ok = (pos < self._seen.size) & (
            self._seen[np.minimum(pos, self._seen.size - 1)] == rated_rows
        )
        out = np.full(self.catalog.size, -np.inf)
        out[self._seen] = self.ease(reg)[pos[ok]].sum(axis=0)
        return out

    def ease_similar(self, row: int, reg: float) -> np.ndarray:
        """EASE's item weights from ``row`` to every movie (``-inf`` where none)."""
        out = np.full(self.catalog.size, -np.inf)
        k = np.searchsorted(self._seen, row)
        if k < self._seen.size and self._seen[k] == row:
            out[self._seen] = self.ease(reg)[k]
        return out

    def cosine_similar(self, row: int) -> np.ndarray:
        """The co-occurrence cosine ``n_ij / sqrt(n_i n_j)`` from ``row`` to every movie."""
        out = np.full(self.catalog.size, -np.inf)
        k = np.searchsorted(self._seen, row)
        if k < self._seen.size and self._seen[k] == row:
            g = self.gram()
            d = np.sqrt(np.diag(g))
            out[self._seen] = g[k] / (d[k] * d)
        return out


def top_unrated(
    scores: np.ndarray, rated_rows: np.ndarray, catalog: np.ndarray, n: int
) -> list[int]:
    """The ``n`` best of ``scores`` (catalog order) among unrated rows, ties to the smaller id."""
    s = scores.astype(np.float64, copy=True)
    s[rated_rows] = -np.inf
    cand = np.flatnonzero(np.isfinite(s))
    if cand.size > n:
        cand = cand[np.argpartition(-s[cand], n - 1)[:n]]
    order = np.lexsort((catalog[cand], -s[cand]))
    return [int(catalog[c]) for c in cand[order]]
