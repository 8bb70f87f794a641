"""/similar and the novelty knob in `moviebot evaluate`: item-to-item hit@10 beside what a fan
sees, and the popularity of the lists at each "how adventurous" level.

Item to item: for up to 5 movies each test user liked in train (4+ stars, 5+ train ratings), the
10 nearest movies the user has not rated; ``hit_at_10`` is the share of those lists holding one
of the user's relevant test movies (:func:`recommender.topn.similar_hit_rate`). Beside it:

* ``mean_popularity``: the mean number of train ratings of a listed neighbour;
* ``genre_agreement``: the mean Jaccard of a neighbour's genres with the source movie's;
* ``genre_shared``: the share of neighbours with at least one genre of the source movie.

"ours" is /similar as served to someone with ratings (recommender/similar_personal.py): the
relation's nearest ordered for the user, so unlike every other row it is personal (the row
says so); "relation only" is what a person with no ratings gets, the list for everyone.

The references, on the same 0/1 who-rated-what matrix (``ReferenceItems``):

* ItemKNN, cosine with shrinkage: ``c_ij / (sqrt(n_i n_j) + shrink)`` (the number of
  neighbours kept per movie does not change a top 10);
* RP3beta (Paudel et al. 2017; the tuned baseline of Dacrema et al. 2019): ``sum_u x_ui x_uj
  n_u^-alpha / n_j^beta``, the row of ``P_ui^alpha P_iu^alpha`` divided by popularity;

each at its best validation hit@10 (``python -m recommender.tune_similar``), and ItemKNN
"(capped)" at its best among the settings as unpopular and genre-true as /similar before.

Novelty: each test user's top 10 (``Model.recommend``, the franchise rule not applied) at each
level of :data:`recommender.novelty.NOVELTY_LEVELS`: NDCG@10, P@10 and the mean popularity rank
of the listed movies (1 = the most-rated movie in train) and the share of the 100 most-rated
among them, for all users and for the most mainstream third (by the mean popularity rank of
their train ratings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from recommender.model import Model
from recommender.novelty import NOVELTY_LEVELS
from recommender.similar import SimilarItems
from recommender.similar_personal import (
    PERSONAL_SIMILAR,
    PersonalSimilarSettings,
    personal_similar,
)
from recommender.topn import (
    SIMILAR_MIN_RATINGS,
    SIMILAR_SOURCES,
    TOP_K,
    ReferenceItems,
    precision_ndcg,
    top_unrated,
)

# Chosen on validation (python -m recommender.tune_similar; docs/history/similar-round1.md).
# Each reference at its best hit@10, and ItemKNN at its best among the settings whose neighbours
# are no more popular and agree no less on genre than /similar before this round.
ITEMKNN_SHRINK = 1000.0
ITEMKNN_CAPPED_SHRINK = 10.0
RP3_ALPHA = 0.5
RP3_BETA = 0.0

# (liked movie, the user's rated movies, the user's relevant test movies)
Source = tuple[int, np.ndarray, set[int]]
Nearest = Callable[[int, np.ndarray], list[int]]


def similar_sources(
    histories: Sequence[tuple[np.ndarray, np.ndarray]],
    relevant: Sequence[set[int]],
    counts: Mapping[int, int],
) -> list[Source]:
    """The protocol's sources from each user's ``(movie ids, ratings)`` history (1-10)."""
    out = []
    for (ids, vals), rel in zip(histories, relevant, strict=True):
        if not rel:
            continue
        liked = [
            int(m)
            for m, v in zip(ids.tolist(), vals.tolist(), strict=True)
            if v >= 8 and counts.get(int(m), 0) >= SIMILAR_MIN_RATINGS
        ]
        out += [(m, ids, rel) for m in liked[:SIMILAR_SOURCES]]
    return out


def itemknn_scores(ref: ReferenceItems, row: int, shrink: float) -> np.ndarray:
    """ItemKNN's shrunk cosine from catalog ``row`` to every movie (``-inf`` where unrated)."""
    users = ref.x[:, row].nonzero()[0]
    co = np.asarray(ref.x[users].sum(axis=0)).ravel()
    out = co / (np.sqrt(ref.counts[row] * ref.counts) + shrink)
    out[ref.counts == 0] = -np.inf
    return out


def rp3beta_scores(ref: ReferenceItems, row: int, alpha: float, beta: float) -> np.ndarray:
    """RP3beta's row from catalog ``row`` (``-inf`` where unrated)."""
    users = ref.x[:, row].nonzero()[0]
    sub = ref.x[users]
    weight = np.maximum(np.diff(sub.indptr), 1).astype(np.float64) ** -alpha
    co = np.asarray(sub.T @ weight).ravel()
    out = co / np.maximum(ref.counts, 1).astype(np.float64) ** beta
    out[ref.counts == 0] = -np.inf
    return out


def candidate_nearest(
    model: Model, sim: SimilarItems, movie_id: int, rated: np.ndarray
) -> list[int]:
    """The candidate relation's 10 nearest (recommender/similar.py), as ``Model.similar`` picks
    them: movies with 10+ ratings, the user's ``rated`` left out."""
    row = model._movies.row(movie_id)
    counts = model._item_counts
    if counts[row] < 10:
        return []
    rows, score = sim.neighbours(row)
    gone, found = model._movies.lookup(np.asarray(rated, dtype=np.int64))
    ok = (counts[rows] >= 10) & ~np.isin(rows, gone[found])
    return [m for m, _ in model._top(score[ok].astype(np.float64), rows[ok], TOP_K)]


def personal_nearest(
    model: Model,
    histories: Sequence[tuple[np.ndarray, np.ndarray]],
    genres: Mapping[int, frozenset[str]] | None,
    settings: PersonalSimilarSettings = PERSONAL_SIMILAR,
) -> Nearest:
    """/similar ordered for the user who asks (recommender/similar_personal.py), each user's
    profile folded in from their history. The protocol hands back each history's own array of
    rated movies (:func:`similar_sources`), so the array's identity names the user."""
    profiles = {
        id(ids): model.fold_in(dict(zip(ids.tolist(), vals.tolist(), strict=True)))
        for ids, vals in histories
    }
    known = genres or {}

    def nearest(movie: int, rated: np.ndarray) -> list[int]:
        profile = profiles[id(rated)]
        found = personal_similar(
            model, profile, movie, lambda _ids: known, TOP_K, settings=settings
        )
        return [m for m, _ in found]

    return nearest


def fan_figures(
    sources: Sequence[Source],
    nearest: Nearest,
    counts: Mapping[int, int],
    genres: Mapping[int, frozenset[str]] | None,
) -> dict:
    """``hit_at_10``, ``mean_popularity`` and (with ``genres``) ``genre_agreement`` and
    ``genre_shared`` of ``nearest`` over the sources (module docstring)."""
    hits, pops, jac, shared = [], [], [], []
    for movie, rated, rel in sources:
        near = nearest(movie, rated)
        hits.append(bool(set(near) & rel))
        pops += [counts.get(m, 0) for m in near]
        if genres is not None:
            g = genres.get(movie, frozenset())
            for m in near:
                h = genres.get(m, frozenset())
                jac.append(len(g & h) / len(g | h) if g | h else 0.0)
                shared.append(bool(g & h))
    out = {
        "hit_at_10": float(np.mean(hits)) if hits else float("nan"),
        "mean_popularity": float(np.mean(pops)) if pops else float("nan"),
    }
    if genres is not None:
        out["genre_agreement"] = float(np.mean(jac)) if jac else float("nan")
        out["genre_shared"] = float(np.mean(shared)) if shared else float("nan")
    return out


def similar_report(
    model: Model,
    ref: ReferenceItems,
    histories: Sequence[tuple[np.ndarray, np.ndarray]],
    relevant: Sequence[set[int]],
    genres: Mapping[int, frozenset[str]] | None,
    ease_reg: float = 300.0,
) -> list[dict]:
    """One row per /similar method: ours (served: the served relation's 200 nearest, ordered
    for the user; personal, unlike every other row), the relation alone (what a person with
    no ratings gets, and /similar before round 2), the candidate relation of
    recommender/similar.py (not served), and the references (EASE's item weights with ridge
    ``ease_reg`` among them)."""
    counts = dict(zip(ref.catalog.tolist(), ref.counts.tolist(), strict=True))
    sources = similar_sources(histories, relevant, counts)

    def from_scores(score: Callable[[int], np.ndarray]) -> Nearest:
        def nearest(movie: int, rated: np.ndarray) -> list[int]:
            row = int(ref.rows(np.array([movie]))[0])
            return top_unrated(score(row), ref.rows(rated), ref.catalog, TOP_K)

        return nearest

    like = model.like_probability(model._mu + model._item_bias)
    rows = model._movies.lookup(ref.catalog)[0]
    candidate = SimilarItems.fit(ref.x, like[rows])
    methods: dict[str, Nearest] = {
        "ours (personal: ranked for the user)": personal_nearest(model, histories, genres),
        "relation only (before; no ratings)": lambda m, rated: [
            x for x, _ in model.similar(m, TOP_K, exclude=rated.tolist())
        ],
        "candidate: shrunk cosine / pop^0.2": lambda m, rated: candidate_nearest(
            model, candidate, m, rated
        ),
        f"ItemKNN cosine, shrink {ITEMKNN_SHRINK:g}": from_scores(
            lambda r: itemknn_scores(ref, r, ITEMKNN_SHRINK)
        ),
        f"ItemKNN cosine, shrink {ITEMKNN_CAPPED_SHRINK:g} (capped)": from_scores(
            lambda r: itemknn_scores(ref, r, ITEMKNN_CAPPED_SHRINK)
        ),
        f"RP3beta (alpha {RP3_ALPHA:g}, beta {RP3_BETA:g})": from_scores(
            lambda r: rp3beta_scores(ref, r, RP3_ALPHA, RP3_BETA)
        ),
        "co-occurrence cosine": from_scores(ref.cosine_similar),
        f"EASE item weights (lambda {ease_reg:g})": from_scores(
            lambda r: ref.ease_similar(r, ease_reg)
        ),
    }
    return [{"name": name} | fan_figures(sources, f, counts, genres) for name, f in methods.items()]


def popularity_ranks(counts: np.ndarray) -> np.ndarray:
    """1 for the most-rated movie, 2 for the next, ... (ties by position)."""
    order = np.argsort(-counts, kind="stable")
    ranks = np.empty(counts.size, dtype=np.int64)
    ranks[order] = np.arange(1, counts.size + 1)
    return ranks


def novelty_report(
    model: Model,
    histories: Sequence[tuple[np.ndarray, np.ndarray]],
    relevant: Sequence[set[int]],
    levels: Mapping[int, float] = NOVELTY_LEVELS,
) -> list[dict]:
    """One row per "how adventurous" level (module docstring)."""
    ranks = popularity_ranks(model._item_counts)
    movie_rank = dict(zip(model.movie_ids.tolist(), ranks.tolist(), strict=True))
    taste = np.array(
        [np.mean([movie_rank.get(int(m), ranks.size) for m in ids]) for ids, _ in histories]
    )
    mainstream = taste <= np.quantile(taste, 1 / 3)
    profiles = [model.fold_in(dict(zip(i.tolist(), v.tolist(), strict=True))) for i, v in histories]
    rows = []
    for level, novelty in sorted(levels.items()):
        lists = [[m for m, _ in model.recommend(p, TOP_K, novelty=novelty)] for p in profiles]
        mean_rank = np.array(
            [np.mean([movie_rank[m] for m in top]) if top else np.nan for top in lists]
        )
        top100 = np.array(
            [np.mean([movie_rank[m] <= 100 for m in top]) if top else np.nan for top in lists]
        )
        main = [t for t, keep in zip(lists, mainstream, strict=True) if keep]
        main_rel = [r for r, keep in zip(relevant, mainstream, strict=True) if keep]
        rows.append(
            {"level": level, "novelty": novelty}
            | precision_ndcg(lists, relevant)
            | {
                "mean_popularity_rank": float(np.nanmean(mean_rank)),
                "mainstream_mean_popularity_rank": float(np.nanmean(mean_rank[mainstream])),
                "top100_share": float(np.nanmean(top100)),
                "mainstream_top100_share": float(np.nanmean(top100[mainstream])),
                "mainstream_ndcg_at_10": precision_ndcg(main, main_rel)["ndcg_at_10"],
            }
        )
    return rows


def format_report(report: dict) -> list[str]:
    """The /similar and novelty tables of `moviebot evaluate` (lines)."""
    lines: list[str] = []

    def num(v: float | None, fmt: str) -> str:
        return "-" if v is None or v != v else format(v, fmt)

    if report.get("similar"):
        lines += [
            "",
            f"{'/similar (item to item)':<40} {'hit@10':>7} {'pop':>6} {'genre J':>7} "
            f"{'shared':>6}",
        ]
        lines += [
            f"{s['name']:<40} {s['hit_at_10']:>7.4f} {num(s.get('mean_popularity'), '6.1f'):>6} "
            f"{num(s.get('genre_agreement'), '7.3f'):>7} {num(s.get('genre_shared'), '6.3f'):>6}"
            for s in report["similar"]
        ]
        lines.append(
            "pop: mean train ratings of a neighbour; genre J: mean Jaccard of its genres with "
            "the source movie's; shared: share of neighbours sharing a genre with it."
        )
    if report.get("novelty"):
        lines += [
            "",
            f"{'how adventurous (novelty)':<28} {'P@10':>7} {'NDCG@10':>8} {'pop rank':>8} "
            f"{'mainstream':>10} {'m NDCG':>7} {'top-100':>7} {'m top-100':>9}",
        ]
        lines += [
            f"{'{:+d} ({:g})'.format(n['level'], n['novelty']):<28} {n['precision_at_10']:>7.4f} "
            f"{n['ndcg_at_10']:>8.4f} {n['mean_popularity_rank']:>8.1f} "
            f"{n['mainstream_mean_popularity_rank']:>10.1f} {n['mainstream_ndcg_at_10']:>7.4f} "
            f"{n['top100_share']:>7.3f} {n['mainstream_top100_share']:>9.3f}"
            for n in report["novelty"]
        ]
        lines.append(
            "pop rank: mean popularity rank of a listed movie (1 = most rated); top-100: share "
            "of the 100 most-rated in the lists; mainstream (m): the third of users with the "
            "most popular train ratings."
        )
    return lines
