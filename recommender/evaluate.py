"""Offline evaluation on a fixed train/test split: accuracy and top-10 quality of our model next
to the reference models.

Models (all fitted on ``train`` only):

* ``global mean``: ``r_hat = mu``.
* ``movie mean``: the tutorial's cold start, the plain per-movie mean over rated entries
  (``mu`` for movies without training ratings).
* ``tutorial dense CG``: the tutorial model itself, dense movies x users arrays, mean
  normalisation, rank 10, ``lambda = 10``, 100 iterations of nonlinear CG; only when
  ``movies x users <= DENSE_MAX_CELLS`` (ML-small is 9.7k x 610 = 5.9M cells).
* ``ours``: :class:`recommender.Model` with the given (default: validation-chosen) config;
  when both files carry timestamps, each test rating is predicted at its own time, so the
  session term (:meth:`recommender.Model.session_bias`) sees the user's training ratings given
  around then; ``ours, time-blind`` is the same fitted model without it (the prediction the
  timestamps cannot help). The session term shifts all of a user's scores at one time alike,
  so the top-10 lists (ranked without it) are the same for both.

Metrics. RMSE and MAE over every test rating, in stars and on our 1-10 scale (stars = 1-10 / 2).
Top-10: for each test user, every movie the model knows that the user did not rate in ``train``
is ranked (the "all unrated items" protocol: what the bot actually recommends from); the
relevant ones are the user's test movies rated >= 4 stars (8 on our scale). Over users with at
least one relevant movie:

    P@10    = |top10 ∩ relevant| / 10
    NDCG@10 = sum_{k<=10, item_k relevant} 1/log2(k+1)  /  sum_{k<=min(10,|relevant|)} 1/log2(k+1)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import scipy.optimize

from recommender.config import ModelConfig
from recommender.diversity import diversify, franchise_keys, ranked_depth
from recommender.errors import BadRatings
from recommender.evaluate_new_movies import format_new_movies, new_movie_figures
from recommender.evaluate_similar import format_report as format_similar
from recommender.evaluate_similar import novelty_report, similar_report
from recommender.ids import IdIndex
from recommender.model import Model
from recommender.movielens_files import CatalogMovie
from recommender.onboarding import (
    adaptive_next,
    diverse_popular,
    most_rated,
    simulate,
    static_order,
)
from recommender.ratings import Ratings
from recommender.topn import (
    TOP_K,
    ReferenceItems,
    list_profile,
    precision_ndcg,
    top_unrated,
)

DENSE_MAX_CELLS = 20_000_000
RELEVANT_STARS = 4.0


# --------------------------------------------------------------------- metrics


class _Split:
    """The split grouped by user: train history and test movies/ratings per test user."""

    def __init__(self, train: Ratings, test: Ratings) -> None:
        self.catalog = IdIndex(np.unique(np.concatenate([train.movie_ids, test.movie_ids])))
        order = np.argsort(train.user_ids, kind="stable")
        tu = train.user_ids[order]
        self.train_users, starts = np.unique(tu, return_index=True)
        bounds = np.append(starts, tu.size)
        self._train_order = order
        self._train_bounds = bounds
        self.train = train
        self.test = test
        torder = np.argsort(test.user_ids, kind="stable")
        tt = test.user_ids[torder]
        self.test_users, tstarts = np.unique(tt, return_index=True)
        self._test_order = torder
        self._test_bounds = np.append(tstarts, tt.size)

    def history(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        sel = self._history_rows(user)
        return self.train.movie_ids[sel], self.train.values[sel]

    def history_times(self, user: int) -> np.ndarray:
        return self.train.timestamps[self._history_rows(user)]

    def _history_rows(self, user: int) -> np.ndarray:
        k = np.searchsorted(self.train_users, user)
        if k >= self.train_users.size or self.train_users[k] != user:
            return np.zeros(0, dtype=np.int64)
        return self._train_order[self._train_bounds[k] : self._train_bounds[k + 1]]

    @property
    def timed(self) -> bool:
        """Whether every train and test rating has a timestamp."""
        return bool(
            np.all(~np.isnan(self.train.timestamps)) and np.all(~np.isnan(self.test.timestamps))
        )

    def test_rows(self) -> list[tuple[int, np.ndarray]]:
        out = []
        for k, u in enumerate(self.test_users):
            out.append((int(u), self._test_order[self._test_bounds[k] : self._test_bounds[k + 1]]))
        return out


# A reference model, for evaluation: (user, history ids, history values) -> scores over the
# whole catalogue (``_Split.catalog`` order).
Scorer = Callable[[int, np.ndarray, np.ndarray], np.ndarray]
# A time-dependent addition to a scorer's predictions: (user, test rows of ``split.test``) ->
# one value per test rating.
Shift = Callable[[int, np.ndarray], np.ndarray]


def _evaluate_scorer(
    split: _Split, scorer: Scorer, shift: Shift | None = None
) -> tuple[dict[str, float], dict[str, float] | None, list[list[int]]]:
    """The scorer's metrics, with ``shift`` also those of its predictions plus the shift
    (same top-10 lists: the shift is not used for ranking), and its top-10 lists by score,
    from one pass over the users."""
    preds = np.empty(len(split.test))
    shifted = np.empty(len(split.test)) if shift is not None else None
    lists = []
    cat = split.catalog
    for user, sel in split.test_rows():
        hist_ids, hist_vals = split.history(user)
        raw = scorer(user, hist_ids, hist_vals)
        scores = np.clip(raw, 1.0, 10.0)
        rows = cat.rows_strict(split.test.movie_ids[sel])
        preds[sel] = scores[rows]
        if shifted is not None:
            shifted[sel] = np.clip(raw[rows] + shift(user, sel), 1.0, 10.0)
        lists.append(top_unrated(scores, cat.rows_strict(hist_ids), cat.ids, TOP_K))
    topn = precision_ndcg(lists, _relevant(split))
    truth = split.test.values
    plain = _accuracy(preds, truth) | topn
    return plain, (_accuracy(shifted, truth) | topn if shifted is not None else None), lists


def _accuracy(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    err = pred - truth
    rmse = float(np.sqrt(np.mean(err**2)))
    mae = float(np.mean(np.abs(err)))
    return {"rmse_stars": rmse / 2, "mae_stars": mae / 2, "rmse": rmse, "mae": mae}


# --------------------------------------------------------------------- reference models


def _global_mean(split: _Split) -> Scorer:
    mu = float(split.train.values.mean())
    n = len(split.catalog)
    return lambda user, ids, vals: np.full(n, mu)


def _movie_mean(split: _Split) -> Scorer:
    """Plain per-movie mean over rated entries (the tutorial's cold start)."""
    mu = float(split.train.values.mean())
    rows = split.catalog.rows_strict(split.train.movie_ids)
    n = len(split.catalog)
    cnt = np.bincount(rows, minlength=n)
    s = np.bincount(rows, weights=split.train.values, minlength=n)
    means = np.where(cnt > 0, s / np.maximum(cnt, 1), mu)
    return lambda user, ids, vals: means


def dense_cg_reference(
    train: Ratings,
    catalog: IdIndex,
    rank: int = 10,
    reg: float = 10.0,
    maxiter: int = 100,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tutorial model on dense arrays: ``Y`` (movies x users), ``R`` (rated mask),
    ``Ymean_i`` over rated entries, and ``X, Theta`` minimising

        J = 1/2 sum((X Theta^T - Ynorm) * R)^2 + reg/2 (|X|^2 + |Theta|^2)

    by nonlinear CG. Returns ``(pred, user_ids, Ymean)`` with ``pred = X Theta^T + Ymean``."""
    users, ucol = np.unique(train.user_ids, return_inverse=True)
    mrow = catalog.rows_strict(train.movie_ids)
    nm, nu = len(catalog), users.size
    y = np.zeros((nm, nu))
    r = np.zeros((nm, nu))
    y[mrow, ucol] = train.values
    r[mrow, ucol] = 1.0
    cnt = r.sum(axis=1)
    mu = float(train.values.mean())
    ymean = np.where(cnt > 0, y.sum(axis=1) / np.maximum(cnt, 1), mu)
    ynorm = (y - ymean[:, None]) * r
    rng = np.random.default_rng(seed)
    theta0 = rng.normal(0, 0.1, size=(nm + nu) * rank)

    def cost(t: np.ndarray) -> tuple[float, np.ndarray]:
        x = t[: nm * rank].reshape(nm, rank)
        th = t[nm * rank :].reshape(nu, rank)
        e = (x @ th.T - ynorm) * r
        j = 0.5 * float(np.sum(e * e)) + 0.5 * reg * float(t @ t)
        gx = e @ th + reg * x
        gth = e.T @ x + reg * th
        return j, np.concatenate([gx.ravel(), gth.ravel()])

    res = scipy.optimize.minimize(cost, theta0, jac=True, method="CG", options={"maxiter": maxiter})
    x = res.x[: nm * rank].reshape(nm, rank)
    th = res.x[nm * rank :].reshape(nu, rank)
    return x @ th.T + ymean[:, None], users, ymean


def _dense_cg(split: _Split) -> Scorer:
    pred, users, ymean = dense_cg_reference(split.train, split.catalog)

    def score(user: int, ids: np.ndarray, vals: np.ndarray) -> np.ndarray:
        k = np.searchsorted(users, user)
        if k < users.size and users[k] == user:
            return pred[:, k]
        return ymean

    return score


def _ours(split: _Split, model: Model) -> Scorer:
    rows_of_model = split.catalog.rows_strict(model.movie_ids)
    n = len(split.catalog)

    def score(user: int, ids: np.ndarray, vals: np.ndarray) -> np.ndarray:
        profile = model.fold_in(dict(zip(ids.tolist(), vals.tolist(), strict=True)))
        out = np.zeros(n)
        out[rows_of_model] = model._scores(profile, None)
        return out

    return score


def _session_shift(split: _Split, model: Model) -> Shift:
    """``w_s sess(u, t)`` of :meth:`Model.session_bias` at each test rating's own time."""

    def shift(user: int, sel: np.ndarray) -> np.ndarray:
        ids, vals = split.history(user)
        times = split.history_times(user)
        profile = model.fold_in(
            dict(zip(ids.tolist(), vals.tolist(), strict=True)),
            dict(zip(ids.tolist(), times.tolist(), strict=True)),
        )
        return model.config.blend_session * model.session_bias(profile, split.test.timestamps[sel])

    return shift


# --------------------------------------------------------------------- entry points


def evaluate(
    train: Ratings,
    test: Ratings,
    *,
    include_dense_reference: bool = True,
    config: ModelConfig | None = None,
    catalog: Mapping[int, CatalogMovie] | None = None,
    include_onboarding: bool = True,
    include_new_movies: bool = True,
) -> dict:
    """Fit every model on ``train`` and score it on ``test``; see the module docstring.

    Returns a JSON-serialisable dict: sizes, the protocol, ``models`` (one row per model:
    ``name``, ``rmse_stars``, ``mae_stars``, ``rmse``, ``mae`` (None for list-only references),
    ``precision_at_10``, ``ndcg_at_10``, the list figures of :mod:`recommender.topn` and
    ``fit_seconds``), ``similar`` (item-to-item hit@10 per method), ``onboarding`` (the
    cold-start simulation per card order) and ``new_movies`` (evaluate_new_movies.py; both
    empty without their ``include_`` flag or a ``catalog``). With a ``catalog``, "ours" lists
    obey the franchise rule and the genre and franchise figures are reported.
    """
    if len(train) == 0 or len(test) == 0:
        raise BadRatings("evaluate needs non-empty train and test ratings")
    split = _Split(train, test)
    models: list[tuple[str, Callable[[], Scorer]]] = [
        ("global mean", lambda: _global_mean(split)),
        ("movie mean", lambda: _movie_mean(split)),
    ]
    n_users = int(np.unique(train.user_ids).size)
    dense_ok = len(split.catalog) * n_users <= DENSE_MAX_CELLS
    if include_dense_reference and dense_ok:
        models.append(("tutorial dense CG", lambda: _dense_cg(split)))
    cfg = config or ModelConfig()
    ref = ReferenceItems(train.user_ids, train.movie_ids, split.catalog.ids)
    counts = dict(zip(split.catalog.ids.tolist(), ref.counts.tolist(), strict=True))
    franchise_of = franchise_keys({m: c.title for m, c in catalog.items()}) if catalog else None
    genres = {m: frozenset(c.genres) for m, c in catalog.items()} if catalog else None

    def profile_of(lists: list[list[int]]) -> dict:
        return list_profile(lists, counts, n_users, len(split.catalog), genres, franchise_of)

    results = []
    for name, build in models:
        t0 = time.perf_counter()
        scorer = build()
        fit_s = time.perf_counter() - t0
        plain, _, lists = _evaluate_scorer(split, scorer)
        results.append({"name": name} | plain | profile_of(lists) | {"fit_seconds": fit_s})
    users = [(u, split.history(u)) for u, _ in split.test_rows()]
    relevant = _relevant(split)
    for name, lister in (
        (
            "popularity",
            lambda rows: top_unrated(ref.counts.astype(float), rows, ref.catalog, TOP_K),
        ),
        (
            f"EASE (lambda {EASE_REG:g})",
            lambda rows: top_unrated(ref.ease_scores(rows, EASE_REG), rows, ref.catalog, TOP_K),
        ),
    ):
        t0 = time.perf_counter()
        lists = [lister(ref.rows(ids)) for _, (ids, _) in users]
        results.append(
            {"name": name}
            | _NO_ACCURACY
            | precision_ndcg(lists, relevant)
            | profile_of(lists)
            | {"fit_seconds": time.perf_counter() - t0}
        )
    t0 = time.perf_counter()
    model = Model.fit(train, cfg, seed=0, movie_ids=split.catalog.ids)
    fit_s = time.perf_counter() - t0
    scorer = _ours(split, model)
    timed = split.timed and cfg.blend_session != 0
    blind, with_session, by_rating = _evaluate_scorer(
        split, scorer, _session_shift(split, model) if timed else None
    )
    fit = {"fit_seconds": fit_s}
    histories = [h for _, h in users]
    results.append(
        {"name": "ours, ranked by predicted rating"} | blind | profile_of(by_rating) | fit
    )
    shown = [_shown_list(model, ids, vals, franchise_of) for _, (ids, vals) in users]
    lists_figures = precision_ndcg(shown, relevant) | profile_of(shown)
    if with_session is None:
        results.append({"name": "ours"} | blind | lists_figures | fit)
    else:
        results.append({"name": "ours"} | with_session | lists_figures | fit)
        results.append({"name": "ours, time-blind"} | blind | lists_figures | fit)
    return {
        "n_train": len(train),
        "n_test": len(test),
        "n_users": n_users,
        "n_movies": len(split.catalog),
        "config": json_config(cfg),
        "protocol": (
            "RMSE/MAE over all test ratings; P@10/NDCG@10 rank every movie the user did not "
            f"rate in train, relevant = test rating >= {RELEVANT_STARS:g} stars"
        ),
        "dense_reference_skipped": bool(include_dense_reference and not dense_ok),
        "franchise_rule": franchise_of is not None,
        "models": results,
        "similar": similar_report(model, ref, histories, relevant, genres, EASE_REG),
        "novelty": novelty_report(model, histories, relevant),
        "onboarding": _onboarding_figures(split, cfg, catalog, franchise_of)
        if include_onboarding and catalog
        else [],
        # Films nobody rated (recommender/evaluate_new_movies.py): one more fit.
        "new_movies": new_movie_figures(train, test, catalog, cfg)
        if include_new_movies and catalog
        else {},
    }


# List-only references have no rating predictions: null in the JSON, "-" in the table.
_NO_ACCURACY = {"rmse_stars": None, "mae_stars": None, "rmse": None, "mae": None}
EASE_REG = 300.0


def _relevant(split: _Split) -> list[set[int]]:
    out = []
    for _, sel in split.test_rows():
        vals = split.test.values[sel]
        out.append({int(m) for m in split.test.movie_ids[sel][vals >= 2 * RELEVANT_STARS]})
    return out


def _shown_list(
    model: Model, ids: np.ndarray, vals: np.ndarray, franchise_of: Mapping[int, str] | None
) -> list[int]:
    """What the bot shows: the model's ranking, with the franchise rule when titles are known."""
    profile = model.fold_in(dict(zip(ids.tolist(), vals.tolist(), strict=True)))
    if franchise_of is None:
        return [m for m, _ in model.recommend(profile, TOP_K)]
    ranked = [m for m, _ in model.recommend(profile, ranked_depth(TOP_K))]
    return diversify(ranked, franchise_of, TOP_K)


ONBOARDING_HOLDOUT = 5  # every 5th test user is a new user for the cold-start simulation


def _onboarding_figures(
    split: _Split,
    cfg: ModelConfig,
    catalog: Mapping[int, CatalogMovie],
    franchise_of: Mapping[int, str] | None,
) -> list[dict]:
    """The cold-start simulation (:mod:`recommender.onboarding`): every 5th test user is left
    out of a second fit and meets the onboarding as a new user, answering with their train
    ratings; their list after 10 cards is scored on their test ratings."""
    held = set(split.test_users[::ONBOARDING_HOLDOUT].tolist())
    tr = split.train
    keep = ~np.isin(tr.user_ids, list(held))
    fit = tr.subset(keep)
    model = Model.fit(fit, cfg, seed=0, movie_ids=split.catalog.ids)
    truths = []
    for u in sorted(held):
        sel = tr.user_ids == u
        known = dict(zip(tr.movie_ids[sel].tolist(), tr.values[sel].tolist(), strict=True))
        tsel = (split.test.user_ids == u) & (split.test.values >= 2 * RELEVANT_STARS)
        truths.append((known, set(split.test.movie_ids[tsel].tolist())))
    ids, cnt = np.unique(fit.movie_ids, return_counts=True)
    counts = dict(zip(ids.tolist(), cnt.tolist(), strict=True))
    pool = most_rated(counts)
    diverse = diverse_popular(
        counts,
        {m: c.genres for m, c in catalog.items()},
        {m: c.year for m, c in catalog.items()},
        franchise_of or {},
        3 * TOP_K,
    )

    def by_rating(m: Model, h: Mapping[int, float]) -> list[int]:
        return [x for x, _ in m.recommend_by_rating(m.fold_in(h), TOP_K)]

    runs = [
        ("diverse cards, ranked by predicted rating (before)", static_order(diverse), by_rating),
        ("diverse cards", static_order(diverse), None),
        ("most-rated cards", static_order(pool), None),
        ("adaptive cards", lambda r, p: adaptive_next(model, r, p, pool), None),
    ]
    return [
        {"name": name} | simulate(model, truths, order, recommend=rec) for name, order, rec in runs
    ]


def json_config(cfg: ModelConfig) -> dict:
    import json

    return json.loads(cfg.to_json())


def format_report(report: dict) -> str:
    """Render :func:`evaluate`'s result as plain-text tables."""

    def num(v: float | None, fmt: str) -> str:
        return "-" if v is None or v != v else format(v, fmt)

    lines = [
        f"train {report['n_train']} ratings, test {report['n_test']} ratings, "
        f"{report['n_users']} users, {report['n_movies']} movies",
        "",
        f"{'model':<34} {'RMSE*':>7} {'MAE*':>7} {'P@10':>7} {'NDCG@10':>8} {'genres':>6} "
        f"{'pop':>6} {'cover':>6} {'novel':>6} {'fr':>3} {'fit s':>6}",
    ]
    for m in report["models"]:
        lines.append(
            f"{m['name']:<34} {num(m['rmse_stars'], '7.4f'):>7} {num(m['mae_stars'], '7.4f'):>7} "
            f"{num(m['precision_at_10'], '7.4f'):>7} {num(m['ndcg_at_10'], '8.4f'):>8} "
            f"{num(m.get('genre_diversity'), '6.3f'):>6} {num(m['mean_popularity'], '6.1f'):>6} "
            f"{num(m['coverage'], '6.3f'):>6} {num(m['novelty'], '6.2f'):>6} "
            f"{m.get('max_franchise', '-'):>3} {m['fit_seconds']:>6.2f}"
        )
    lines.append("")
    lines.append(
        "* in stars (0.5-5). " + report["protocol"] + ". genres: intra-list genre diversity; "
        "pop: mean train ratings of a listed movie; cover: catalog coverage; novel: mean "
        "-log2(share of users who rated it); fr: most movies of one franchise in a list."
    )
    if not report.get("franchise_rule"):
        lines.append("No catalog given: the franchise rule and the genre figures are off.")
    if report.get("dense_reference_skipped"):
        lines.append("tutorial dense CG skipped: too many movie x user cells for dense arrays.")
    lines += format_similar(report)
    if report.get("onboarding"):
        lines += [
            "",
            f"{'cold start: 10 onboarding cards':<52} {'ratings':>7} {'P@10':>7} {'NDCG@10':>8}",
        ]
        lines += [
            f"{o['name']:<52} {o['ratings_collected']:>7.2f} {o['precision_at_10']:>7.4f} "
            f"{o['ndcg_at_10']:>8.4f}"
            for o in report["onboarding"]
        ]
    lines += format_new_movies(report)
    return "\n".join(lines)
