"""Choose the hyperparameters on a validation part of the training ratings (never test).

    python -m recommender.tune [--train PATH] [--quick]

Carves a seeded 10% of the training rows out as validation, fits every candidate on the other
90%, and prints validation RMSE (stars) for: bias damping, ALS rank/reg/iterations, CG
iterations, kNN neighbours/shrink/damping, and the least-squares blend weights. The chosen
values are the defaults in :class:`recommender.config.ModelConfig` (see README.md).
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from recommender.config import ModelConfig
from recommender.evaluate import load_movielens_ratings
from recommender.model import Model
from recommender.ratings import Ratings

VALIDATION_FRACTION = 0.1
VALIDATION_SEED = 1


def default_train_path() -> Path:
    """The shared split's train.csv (env ``MOVIEBOT_SHARED_DATA`` or ``<repo>/../shared/data``)."""
    root = os.environ.get("MOVIEBOT_SHARED_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "shared" / "data"
    if base.name != "ml-latest-small":
        base = base / "ml-latest-small"
    return base / "split-seed42" / "train.csv"


class Components:
    """Validation predictions split into terms: ``base = mu + b_i + b_u``, ``mf = p_u . q_i``,
    ``knn = knn(u, i)``, for one fitted model; the truth is ``y``."""

    def __init__(self, model: Model, fit: Ratings, val: Ratings) -> None:
        order = np.argsort(fit.user_ids, kind="stable")
        users, starts = np.unique(fit.user_ids[order], return_index=True)
        bounds = np.append(starts, order.size)
        n = len(val)
        self.base, self.mf, self.knn = np.zeros(n), np.zeros(n), np.zeros(n)
        self.movie, self.bu, self.known = np.zeros(n), np.zeros(n), np.zeros(n)
        self.y = val.values
        vorder = np.argsort(val.user_ids, kind="stable")
        vusers, vstarts = np.unique(val.user_ids[vorder], return_index=True)
        vbounds = np.append(vstarts, vorder.size)
        for k, u in enumerate(vusers):
            sel = vorder[vbounds[k] : vbounds[k + 1]]
            j = np.searchsorted(users, u)
            hist = {}
            if j < users.size and users[j] == u:
                h = order[bounds[j] : bounds[j + 1]]
                hist = dict(zip(fit.movie_ids[h].tolist(), fit.values[h].tolist(), strict=True))
            prof = model.fold_in(hist)
            rows = model._movies.rows_strict(val.movie_ids[sel])
            self.movie[sel] = model._mu + model._item_bias[rows]
            self.bu[sel] = prof.user_bias
            self.known[sel] = float(prof._rows.size > 0)
            self.base[sel] = self.movie[sel] + prof.user_bias
            if model.config.rank and prof._rows.size:
                self.mf[sel] = model._q[rows] @ prof.factors
            if model._nbrs.nnz and prof._rows.size:
                self.knn[sel] = model._knn(prof, rows)

    def rmse(self, w_mf: float = 1.0, w_knn: float = 0.0) -> float:
        """Validation RMSE in stars of ``base + w_mf mf + w_knn knn`` clipped to [1, 10]."""
        pred = np.clip(self.base + w_mf * self.mf + w_knn * self.knn, 1, 10)
        return float(np.sqrt(np.mean((pred - self.y) ** 2)) / 2)

    def blend(self) -> tuple[float, float]:
        """Least-squares weights ``(w_mf, w_knn)`` of ``y - base ~ w_mf mf + w_knn knn``."""
        a = np.column_stack([self.mf, self.knn])
        w, *_ = np.linalg.lstsq(a, self.y - self.base, rcond=None)
        return float(w[0]), float(w[1])

    def _free_design(self) -> np.ndarray:
        return np.column_stack([self.mf, self.knn, self.bu, self.known])

    def free_blend(self, rows: np.ndarray | None = None) -> tuple[float, float, float, float]:
        """Least-squares ``(w_mf, w_knn, w_b, w_0)`` of
        ``y - (mu + b_i) ~ w_mf mf + w_knn knn + w_b b_u + w_0 [user has ratings]``
        (on ``rows`` of the validation set only, when given)."""
        a, t = self._free_design(), self.y - self.movie
        if rows is not None:
            a, t = a[rows], t[rows]
        w, *_ = np.linalg.lstsq(a, t, rcond=None)
        return float(w[0]), float(w[1]), float(w[2]), float(w[3])

    def free_rmse(self, w: tuple[float, float, float, float]) -> float:
        """Validation RMSE in stars of the free blend with weights ``w``."""
        pred = np.clip(self.movie + self._free_design() @ np.asarray(w), 1, 10)
        return float(np.sqrt(np.mean((pred - self.y) ** 2)) / 2)

    def free_rmse_cv(self, seed: int = 0) -> float:
        """Two-fold cross-validated RMSE (stars) of the free blend: weights fitted on one half
        of the validation ratings, scored on the other (guards against fitting the blend to
        the validation noise)."""
        half = np.random.default_rng(seed).integers(0, 2, self.y.size).astype(bool)
        pred = np.zeros(self.y.size)
        for part in (half, ~half):
            w = np.asarray(self.free_blend(~part))
            pred[part] = np.clip(self.movie[part] + self._free_design()[part] @ w, 1, 10)
        return float(np.sqrt(np.mean((pred - self.y) ** 2)) / 2)


def run(train: Ratings, quick: bool = False) -> ModelConfig:
    fit, val = train.split(VALIDATION_FRACTION, VALIDATION_SEED)
    catalog = np.unique(train.movie_ids)
    print(f"validation: fit {len(fit)} ratings, validate {len(val)} ratings")

    def comps(cfg: ModelConfig) -> tuple[Components, float]:
        t0 = time.perf_counter()
        model = Model.fit(fit, cfg, seed=0, movie_ids=catalog)
        secs = time.perf_counter() - t0
        return Components(model, fit, val), secs

    cfg = ModelConfig(rank=0, knn_neighbours=0, blend_knn=0.0)
    print("\n# damped biases (rank 0): damping, user_damping -> RMSE")
    best = (9.0, cfg)
    damp_grid = [0, 2, 5, 10, 25] if not quick else [0, 5]
    for d, ud in itertools.product(damp_grid, damp_grid):
        c = replace(cfg, damping=float(d), user_damping=float(ud))
        r = comps(c)[0].rmse()
        print(f"  damping {d:>4} user_damping {ud:>4}: {r:.4f}")
        best = min(best, (r, c), key=lambda t: t[0])
    cfg = best[1]
    print(f"  -> damping {cfg.damping:g}, user_damping {cfg.user_damping:g}: {best[0]:.4f}")

    print("\n# ALS: rank, reg, iterations -> RMSE (fit s)")
    results = []
    ranks = [10, 25, 50, 100] if not quick else [50]
    regs = [11.0, 20.0, 25.0, 30.0, 40.0] if not quick else [25.0]
    for rank, reg in itertools.product(ranks, regs):
        c = replace(cfg, rank=rank, reg=reg, iterations=10)
        comp, secs = comps(c)
        r = comp.rmse()
        print(f"  rank {rank:>3} reg {reg:>5}: {r:.4f} ({secs:.2f} s)")
        results.append((r, c))
    # The smallest rank within 0.001 of the best: fit time and memory grow with rank^2.
    best_r = min(r for r, _ in results)
    best = min(((r, c) for r, c in results if r <= best_r + 0.001), key=lambda t: t[1].rank)
    cfg = best[1]
    for it in [3, 5, 10, 20] if not quick else [10]:
        c = replace(cfg, iterations=it)
        comp, secs = comps(c)
        if it == 5:  # fewer sweeps act as early stopping; keep 5 if it is as good as 10
            five = comp.rmse()
        print(f"  rank {c.rank} reg {c.reg:g} iterations {it:>3}: {comp.rmse():.4f} ({secs:.2f} s)")
    if five <= best[0] + 0.0005:
        cfg = replace(cfg, iterations=5)
    print(f"  -> rank {cfg.rank}, reg {cfg.reg:g}, iterations {cfg.iterations}: {best[0]:.4f}")

    print("\n# CG (tutorial solver) at the same rank/reg: iterations -> RMSE (fit s)")
    for it in [50, 100] if not quick else [50]:
        c = replace(cfg, solver="cg", iterations=it)
        comp, secs = comps(c)
        print(f"  cg iterations {it:>4}: {comp.rmse():.4f} ({secs:.2f} s)")

    print("\n# kNN on bias residuals: neighbours, shrink, damping -> kNN alone / blend")
    best = (9.0, cfg, (1.0, 0.0))
    ks = [40, 100, 200] if not quick else [40]
    shrinks = [0.0, 25.0, 100.0] if not quick else [100.0]
    kdamps = [0.0, 0.3, 1.0] if not quick else [1.0]
    for k, sh, kd in itertools.product(ks, shrinks, kdamps):
        c = replace(cfg, knn_neighbours=k, knn_shrink=sh, knn_damping=kd, blend_knn=1.0)
        comp, secs = comps(c)
        w = comp.blend()
        r_knn = comp.rmse(0.0, 1.0)
        r_bl = comp.rmse(*w)
        print(
            f"  k {k:>3} shrink {sh:>5} damping {kd:>3}: kNN {r_knn:.4f}, blend {r_bl:.4f} "
            f"(w_mf {w[0]:.3f}, w_knn {w[1]:.3f}; fit {secs:.2f} s)"
        )
        best = min(best, (r_bl, c, w), key=lambda t: t[0])
    r, cfg, w = best
    cfg = replace(cfg, blend_mf=round(w[0], 3), blend_knn=round(w[1], 3))
    cfg = replace(cfg, blend_user_bias=1.0, blend_offset=0.0)
    print(f"  -> {cfg}: {r:.4f}")
    return free_blend_step(cfg, comps)


def free_blend_step(cfg: ModelConfig, comps) -> ModelConfig:
    """Refit the blend with a free user-bias weight and offset; keep it if it wins in 2-fold
    cross-validation on the validation ratings."""
    print("\n# free blend: w_mf, w_knn, w_b (user bias), w_0 (offset)")
    comp, _ = comps(replace(cfg, blend_mf=1.0, blend_knn=1.0))
    w2 = comp.blend()
    half = np.random.default_rng(0).integers(0, 2, comp.y.size).astype(bool)
    fixed_cv = []
    for part in (half, ~half):
        a = np.column_stack([comp.mf, comp.knn])[~part]
        wf, *_ = np.linalg.lstsq(a, (comp.y - comp.base)[~part], rcond=None)
        fixed_cv.append(
            np.clip(comp.base[part] + np.column_stack([comp.mf, comp.knn])[part] @ wf, 1, 10)
        )
    pred = np.zeros(comp.y.size)
    pred[half], pred[~half] = fixed_cv
    r_fixed_cv = float(np.sqrt(np.mean((pred - comp.y) ** 2)) / 2)
    w4 = comp.free_blend()
    r_free_cv = comp.free_rmse_cv()
    print(f"  fixed (w_b 1, w_0 0): {comp.rmse(*w2):.4f}, 2-fold CV {r_fixed_cv:.4f}")
    print(
        f"  free: {comp.free_rmse(w4):.4f}, 2-fold CV {r_free_cv:.4f} "
        f"(w_mf {w4[0]:.3f}, w_knn {w4[1]:.3f}, w_b {w4[2]:.3f}, w_0 {w4[3]:.3f})"
    )
    if r_free_cv < r_fixed_cv:
        cfg = replace(
            cfg,
            blend_mf=round(w4[0], 3),
            blend_knn=round(w4[1], 3),
            blend_user_bias=round(w4[2], 3),
            blend_offset=round(w4[3], 3),
        )
    print(f"  -> {cfg}")
    return cfg


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", type=Path, default=default_train_path())
    ap.add_argument("--quick", action="store_true", help="one point per grid (smoke test)")
    args = ap.parse_args(argv)
    run(load_movielens_ratings(args.train), quick=args.quick)


if __name__ == "__main__":
    main()
