"""/similar for a person the bot knows: the movie's nearest, ordered for the one who asks.

/similar is asked by someone whose ratings the model has folded in, and the item-to-item
protocol (recommender/evaluate_similar.py) is personal already: a list is good when it holds a
film *this* user goes on to like. Every non-personal relation measured lies on one curve of
hit@10 against the neighbours' popularity (docs/history/similar-round1.md), so the order here
blends the relation with the asker's own ranking score (what :meth:`Model.recommend` ranks by,
recommender/pick_match.py):

    score(j) = rel(i -> j) ** relation_exponent  *  rank_u(j)  *  n_j ** -pop_exponent
               *  (genre_floor + jaccard(genres_i, genres_j)) ** genre_exponent

over the ``neighbours`` movies nearest to ``i`` by the served relation (``rel``: the ranking
stage's item weights times the brake, :meth:`Model.similar`) that the person has not rated or
marked seen. ``n_j`` is the movie's fitted rating count (the correction that keeps the
person's taste for famous films from filling the list) and the genre factor keeps the list
"like this film" in kind. A person with no ratings gets :meth:`Model.similar` unchanged.

The settings were chosen on validation (``python -m recommender.tune_similar``;
docs/history/similar-round2.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.model import Model
from recommender.pick_match import ranking_scores
from recommender.rating_model import UserProfile
from recommender.similar import relation_scores

# Genre names by movie id for the ids asked (the bot reads them from its database per call;
# a movie missing from the answer has none).
GenresOf = Callable[[Sequence[int]], Mapping[int, frozenset[str]]]


@dataclass(frozen=True)
class PersonalSimilarSettings:
    """The blend's settings (see the module docstring)."""

    neighbours: int = 200
    relation_exponent: float = 0.5
    pop_exponent: float = 0.4
    genre_exponent: float = 0.5
    genre_floor: float = 0.1


PERSONAL_SIMILAR = PersonalSimilarSettings()


def is_personal(profile: UserProfile) -> bool:
    """Whether /similar is ordered for this person: they have rated something."""
    return profile.n_ratings > 0


def relation_nearest(
    model: Model,
    movie_id: int,
    k: int,
    min_ratings: int,
    exclude_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(model rows, relation scores)`` of the ``k`` movies nearest to ``movie_id`` by the
    served relation (:meth:`Model.similar`'s ``max(B_ij, 0) * like(mu + b_j)``), best first,
    leaving out the movie itself, ``exclude_rows`` and movies with fewer than ``min_ratings``
    fitted ratings; nothing when the movie itself has fewer."""
    row = model._movies.row(movie_id)
    counts = model._item_counts
    if counts[row] < min_ratings or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    like = model.like_probability(model._mu + model._item_bias)
    score = relation_scores(model._ranking.neighbour_weights(row), like, counts, row, min_ratings)
    ok = score > 0
    ok[exclude_rows] = False
    rows = np.flatnonzero(ok)
    # Best first; ties to the smaller movie id, as Model.similar orders them.
    order = np.lexsort((model._movies.ids[rows], -score[rows]))[:k]
    return rows[order], score[rows[order]]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


@dataclass(frozen=True)
class Candidates:
    """The movie's nearest by the relation, best first, with what the blend reads of each."""

    ids: np.ndarray
    relation: np.ndarray
    own: np.ndarray  # the person's ranking score (recommender/pick_match.py)
    popularity: np.ndarray  # fitted ratings
    genre_jaccard: np.ndarray  # with the source movie's genres

    def head(self, k: int) -> Candidates:
        """The ``k`` nearest (the relation's order is kept, so a smaller K is a prefix)."""
        return Candidates(
            self.ids[:k], self.relation[:k], self.own[:k], self.popularity[:k],
            self.genre_jaccard[:k],
        )  # fmt: skip

    def blend(self, settings: PersonalSimilarSettings) -> np.ndarray:
        """The log of each candidate's score (module docstring)."""
        with np.errstate(divide="ignore"):
            return (
                settings.relation_exponent * np.log(self.relation)
                + np.log(np.maximum(self.own, 1e-300))
                - settings.pop_exponent * np.log(np.maximum(self.popularity, 1.0))
                + settings.genre_exponent * np.log(settings.genre_floor + self.genre_jaccard)
            )


def candidates(
    model: Model,
    profile: UserProfile,
    movie_id: int,
    genres_of: GenresOf,
    k: int,
    min_ratings: int = 10,
    exclude: Iterable[int] = (),
) -> Candidates:
    """The ``k`` movies nearest to ``movie_id`` by the relation that ``profile`` has not rated
    or marked seen (nor ``exclude``), with the person's ranking score of each. Raises
    :class:`~recommender.errors.UnknownMovie` for a movie the model does not know."""
    gone = np.union1d(profile._rows, profile._seen_rows)
    ex = np.fromiter((int(m) for m in exclude), dtype=np.int64)
    rows, found = model._movies.lookup(ex)
    gone = np.union1d(gone, rows[found]).astype(np.int64)
    rows, rel = relation_nearest(model, movie_id, k, min_ratings, gone)
    ids = model._movies.ids[rows].astype(np.int64)
    genres = genres_of([int(movie_id), *ids.tolist()])
    source = genres.get(int(movie_id), frozenset())
    return Candidates(
        ids=ids,
        relation=rel,
        own=ranking_scores(model, profile, ids.tolist()) if ids.size else np.zeros(0),
        popularity=model._item_counts[rows].astype(np.float64),
        genre_jaccard=np.array(
            [_jaccard(source, genres.get(int(m), frozenset())) for m in ids.tolist()]
        ),
    )


def top_of(found: Candidates, settings: PersonalSimilarSettings, n: int) -> list[tuple[int, float]]:
    """The ``n`` best of ``found`` by the blend, as ``(movie_id, score as a share of the top
    one's)``, best first; ties to the smaller movie id."""
    if found.ids.size == 0 or n <= 0:
        return []
    log_score = found.blend(settings)
    order = np.lexsort((found.ids, -log_score))[:n]
    best = log_score[order[0]]
    return [(int(found.ids[k]), float(np.exp(log_score[k] - best))) for k in order]


def personal_similar(
    model: Model,
    profile: UserProfile,
    movie_id: int,
    genres_of: GenresOf,
    n: int = 10,
    min_ratings: int = 10,
    exclude: Iterable[int] = (),
    settings: PersonalSimilarSettings = PERSONAL_SIMILAR,
) -> list[tuple[int, float]]:
    """The ``n`` movies like ``movie_id`` for ``profile``, as ``(movie_id, score)`` best
    first, the score a share of the top one's (1 = the top; it falls with the order). The
    person's rated and seen movies and ``exclude`` are left out; ``genres_of`` gives the
    genres of the movies asked. Raises
    :class:`~recommender.errors.UnknownMovie` for a movie the model does not know."""
    found = candidates(
        model, profile, movie_id, genres_of, settings.neighbours, min_ratings, exclude
    )
    return top_of(found, settings, n)
