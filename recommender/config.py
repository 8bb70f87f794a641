"""Hyperparameters of :class:`recommender.Model`, with the validation-chosen defaults.

Every default below was picked on a seeded 10% validation part of the split-seed42 training
ratings (never on test.csv); ``recommender/README.md`` lists the numbers behind each choice and
``python -m recommender.tune`` reproduces them. The blend weights belong to the members that are
on, so a model with fewer members is one of the named :data:`PRESETS` (``ModelConfig()`` is
``"full"``); :func:`default_config_for` picks one by the data's size.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from types import MappingProxyType
from typing import Any, Literal

from recommender.errors import RecommenderError
from recommender.ranking import RankingSettings


@dataclass(frozen=True)
class ModelConfig:
    """How to fit a model (all ratings on the 1-10 scale, so ``reg`` is in 1-10 units).

    The prediction for user ``u`` and movie ``i`` is

        r_hat(u, i) = mu + b_i + w_b b_u + w_0 + w_mf (p_u . q_i) + w_knn knn(u, i)
                      + w_imp imp(u, i) + w_asym asym(u, i)

    clipped to ``[1, 10]``, with the weights ``w_b`` = ``blend_user_bias``, ``w_0`` =
    ``blend_offset`` (only for users with at least one known rating: the cold-start prediction
    is the damped movie mean), ``w_mf`` = ``blend_mf``, ``w_knn`` = ``blend_knn``, ``w_imp`` =
    ``blend_implicit``, ``w_asym`` = ``blend_asym`` (every one a plain number: the defaults are
    the "full" preset's, :data:`PRESETS` the validated blends with fewer members), where

    * ``mu + b_i = (sum_u r_ui + damping * mu) / (n_i + damping)`` is the damped movie mean (with
      ``damping=0`` the tutorial's plain per-movie mean over rated entries);
    * ``b_u = sum_i (r_ui - mu - b_i) / (n_u + user_damping)`` (zero when ``user_bias=False``);
    * ``p_u, q_i`` (``rank`` factors) minimise ``sum (y_ui - p_u . q_i)^2 + reg (|P|^2 + |Q|^2)``
      over the rated entries, ``y_ui = r_ui - mu - b_i - b_u``, by ``solver`` ("als":
      alternating closed-form ridge solves; "cg": the tutorial's nonlinear conjugate gradient);
      with ``reg_exponent > 0`` a row's penalty is ``reg * n ** reg_exponent`` (``n`` = its
      number of ratings; validated worse than the plain ``reg`` for this data);
    * ``knn(u, i) = sum_j s_ij y_uj / (sum_j s_ij + knn_damping)`` over the movies ``j`` the user
      rated among the ``knn_neighbours`` stored neighbours of ``i``; ``s_ij`` is the cosine of the
      residual vectors of ``i`` and ``j`` shrunk by ``n_ij / (n_ij + knn_shrink)`` (``n_ij`` =
      users who rated both), positive similarities only. ``knn_neighbours=0`` switches it off;
    * ``imp(u, i) = x_u . (z_i - zbar)`` (the implicit member): ``z_i`` are ``implicit_rank``
      factors of the binary *who rated what* matrix (implicit ALS, confidence
      ``1 + implicit_alpha`` on rated pairs, ridge ``implicit_reg``), ``x_u`` the closed-form
      fold-in of the set of movies the user rated (see
      :func:`recommender.factorization.implicit_als`), ``zbar`` the mean of ``z_i`` over the
      fitted ratings (centring keeps the offset for light users small). It says how much the
      user's *choice* of movies points at ``i``, whatever they rated them;
    * ``asym(u, i) = q_i . s_u``, ``s_u = |N(u)|^{-1/2} sum_{j in N(u)} y_j`` (the asymmetric-SVD
      member): ``y_j`` (``rank`` factors per movie) fitted by ridge (``asym_reg``) to the bias
      residuals with ``Q`` fixed, ``asym_iterations`` LSQR steps (0: off); see
      :func:`recommender.factorization.asymmetric_factors`.

    When the time of the prediction ``t`` and the times ``t_j`` of the user's ratings are known,
    the session term ``w_s * sess(u, t)`` is added on top (:attr:`blend_session`, fitted to the
    residuals of the blend above, so a prediction without times is exactly the blend above):

        sess(u, t) = sum_j k_j e_j / (sum_j k_j + session_damping),  k_j = exp(-|t - t_j| / tau)

    with ``e_j = r_j - mu - b_j - b_u`` and ``tau`` = :attr:`session_tau` seconds: ratings given
    in one sitting share a deviation from the user's usual level. It is one number per user
    and moment, so it moves every movie's prediction alike and never changes a ranking.
    """

    solver: Literal["als", "cg"] = "als"
    rank: int = 25
    reg: float = 25.0
    reg_exponent: float = 0.0
    iterations: int = 10
    damping: float = 5.0
    user_bias: bool = True
    # For the bot's new users: undamped, a first rating moves every prediction by its whole
    # residual (cold-start validation RMSE 1.0637 undamped, 0.9735 at 5; README.md).
    user_damping: float = 5.0
    knn_neighbours: int = 300
    knn_shrink: float = 25.0
    knn_damping: float = 0.3
    # Only the this many most-rated movies get neighbours (None = all); keeps the item-item pass
    # bounded on big catalogues, the rest fall back to biases + factors.
    knn_max_movies: int | None = None
    # Above this many co-rating pairs (sum over users of n_u^2) the similarity pass samples a
    # seeded random subset of each heavy user's ratings (None: never); ML-small has 3.9e7.
    knn_pair_budget: int | None = 1_000_000_000
    # Neighbours are chosen among this many most-rated movies only (None: all movies).
    knn_max_candidates: int | None = 20_000
    # The blend weights w_mf, w_knn, w_b, w_0 (and w_imp, w_asym below): those of the "full"
    # preset, fitted jointly with every member (the asymmetric term takes over most of
    # p_u . q_i). A model without some member needs its own blend: one of PRESETS, or
    # `python -m recommender.tune`.
    blend_mf: float = 0.044
    blend_knn: float = 1.29
    blend_user_bias: float = 1.105
    blend_offset: float = -0.166
    # The implicit member: rank 0 or weight 0 switches it off.
    implicit_rank: int = 15
    implicit_alpha: float = 5.0
    implicit_reg: float = 10.0
    implicit_iterations: int = 8
    blend_implicit: float = 0.363
    # The asymmetric member: rank 0, 0 iterations or weight 0 switches it off.
    asym_reg: float = 100.0
    asym_iterations: int = 20
    blend_asym: float = 0.95
    # recommend(): score every movie by biases + factors, add the kNN term to the best
    # ``recommend_pool`` of them only, and rank those (0: the exact kNN score of every movie).
    recommend_pool: int = 500
    # The session term (validated: tau 120 s, damping 1, weight 0.75 on the blend's residuals;
    # README.md). 0 switches it off.
    session_tau: float = 120.0
    session_damping: float = 1.0
    blend_session: float = 0.75
    # The ranking stage (recommender/ranking.py): EASE item weights with ridge ``ranking_reg``
    # over the ``ranking_max_movies`` most-rated movies with ``ranking_min_ratings`` ratings or
    # more (0 movies: off, lists rank by the prior and the brake only); the co-occurrence
    # matrix is estimated from a user sample above ``ranking_gram_budget`` multiply-adds.
    # ``like_threshold`` / ``like_scale``: the brake, sigmoid((r_hat - threshold) / scale), and
    # the same on a movie's damped mean for /similar. Validated (README.md, "Ranking stage").
    ranking_reg: float = 250.0
    ranking_max_movies: int = 4000
    ranking_min_ratings: int = 3
    ranking_gram_budget: int = 15_000_000_000
    # recommend() computes the rating model's brake for this many best movies by watch score.
    ranking_pool: int = 100
    like_threshold: float = 8.0
    like_scale: float = 1.5

    def __post_init__(self) -> None:
        if self.solver not in ("als", "cg"):
            raise RecommenderError(f"solver must be 'als' or 'cg', got {self.solver!r}")
        for name in (
            "rank",
            "iterations",
            "knn_neighbours",
            "recommend_pool",
            "implicit_rank",
            "implicit_iterations",
            "asym_iterations",
            "ranking_max_movies",
            "ranking_min_ratings",
            "ranking_pool",
        ):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise RecommenderError(f"{name} must be a non-negative int, got {v!r}")
        for name in (
            "reg",
            "reg_exponent",
            "damping",
            "user_damping",
            "knn_shrink",
            "knn_damping",
            "implicit_reg",
            "asym_reg",
            "session_damping",
            "ranking_reg",
            "like_threshold",
        ):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not v >= 0 or v == float("inf"):
                raise RecommenderError(f"{name} must be a finite number >= 0, got {v!r}")
        for name in ("implicit_alpha", "session_tau", "like_scale"):
            a = getattr(self, name)
            if not isinstance(a, int | float) or not a > 0 or a == float("inf"):
                raise RecommenderError(f"{name} must be a finite number > 0, got {a!r}")
        for name in (*BLEND_WEIGHTS, "blend_session"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or v != v or abs(v) == float("inf"):
                raise RecommenderError(f"{name} must be a finite number, got {v!r}")
        if self.knn_max_movies is not None and (
            not isinstance(self.knn_max_movies, int) or self.knn_max_movies < 0
        ):
            raise RecommenderError("knn_max_movies must be None or an int >= 0")
        if (
            not isinstance(self.ranking_gram_budget, int)
            or isinstance(self.ranking_gram_budget, bool)
            or self.ranking_gram_budget < 1
        ):
            raise RecommenderError(
                f"ranking_gram_budget must be an int >= 1, got {self.ranking_gram_budget!r}"
            )
        for name in ("knn_pair_budget", "knn_max_candidates"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise RecommenderError(f"{name} must be None or an int >= 1, got {v!r}")

    @property
    def knn_on(self) -> bool:
        """Whether the model has a kNN part."""
        return self.knn_neighbours > 0 and self.blend_knn != 0

    @property
    def implicit_on(self) -> bool:
        """Whether the model has the implicit member (``implicit_rank`` and its weight)."""
        return self.implicit_rank > 0 and self.blend_implicit != 0

    @property
    def asym_on(self) -> bool:
        """Whether the model has the asymmetric member (``rank``, ``asym_iterations`` and its
        weight)."""
        return self.rank > 0 and self.asym_iterations > 0 and self.blend_asym != 0

    @property
    def ranking(self) -> RankingSettings:
        """The ranking stage's settings."""
        return RankingSettings(
            reg=float(self.ranking_reg),
            max_movies=self.ranking_max_movies,
            min_ratings=self.ranking_min_ratings,
            gram_budget=self.ranking_gram_budget,
            like_threshold=float(self.like_threshold),
            like_scale=float(self.like_scale),
        )

    def to_json(self) -> str:
        """Serialise to a JSON object (for model files)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        """Parse :meth:`to_json` output; unknown keys are an error (a newer file format).

        Files written before the presets may hold ``null`` for ``blend_user_bias``,
        ``blend_offset``, ``blend_implicit`` and ``blend_asym``: "the validated value for the
        members that are on". Each becomes that value, the weight of the preset with those
        members (:func:`legacy_preset`), so the model is the same."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise RecommenderError("model config must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise RecommenderError(f"unknown config keys {sorted(unknown)}")
        nulls = [name for name in LEGACY_BLEND_WEIGHTS if data.get(name) is None]
        if nulls:
            preset = PRESETS[legacy_preset(data)]
            data |= {name: getattr(preset, name) for name in nulls}
        return cls(**data)

    @classmethod
    def preset(cls, name: str, **changes: Any) -> ModelConfig:
        """The named preset (:data:`PRESETS`) with ``changes``: ``ModelConfig.preset("plain",
        rank=2)``. An unknown name is a :class:`RecommenderError`."""
        if name not in PRESETS:
            raise RecommenderError(f"no preset {name!r}; presets: {', '.join(PRESETS)}")
        return replace(PRESETS[name], **changes)


BLEND_WEIGHTS = (
    "blend_mf",
    "blend_knn",
    "blend_user_bias",
    "blend_offset",
    "blend_implicit",
    "blend_asym",
)

# The validated blends, one per set of members (the members a preset leaves out have weight 0).
# Each weight was fitted by least squares on validation with its members on
# (`python -m recommender.tune`; README.md, "Defaults"); 2-fold CV RMSE on validation in stars.
PRESETS: MappingProxyType[str, ModelConfig] = MappingProxyType(
    {
        # Every member: the default, ModelConfig(). Re-blended for k = 300 and user_damping 5
        # (CV 0.8371; 0.8372 undamped, 0.8381 at k = 200).
        "full": ModelConfig(
            blend_mf=0.044,
            blend_knn=1.29,
            blend_user_bias=1.105,
            blend_offset=-0.166,
            blend_implicit=0.363,
            blend_asym=0.95,
        ),
        # kNN and the implicit member, no asymmetric member (k = 200; implicit rank 15,
        # alpha 5, reg 10: CV 0.8402 vs 0.8428 without the implicit member).
        "knn-implicit": ModelConfig(
            knn_neighbours=200,
            blend_mf=0.465,
            blend_knn=1.219,
            blend_user_bias=1.080,
            blend_offset=-0.150,
            blend_implicit=0.421,
            blend_asym=0.0,
        ),
        # Biases, factors and kNN (k = 200; the free w_b, w_0: CV 0.8428 vs 0.8455 with
        # w_b = 1, w_0 = 0).
        "knn-only": ModelConfig(
            knn_neighbours=200,
            blend_mf=0.501,
            blend_knn=1.209,
            blend_user_bias=1.106,
            blend_offset=-0.101,
            blend_implicit=0.0,
            blend_asym=0.0,
        ),
        # Biases + factors, the plain model (no kNN, implicit or asymmetric member): what
        # default_config_for picks above KNN_MAX_RATINGS, and what the Spark engine serves.
        "plain": ModelConfig(
            knn_neighbours=0,
            blend_mf=1.0,
            blend_knn=0.0,
            blend_user_bias=1.0,
            blend_offset=0.0,
            blend_implicit=0.0,
            blend_asym=0.0,
        ),
    }
)

# The blend weights that model files written before the presets may hold as null.
LEGACY_BLEND_WEIGHTS = ("blend_user_bias", "blend_offset", "blend_implicit", "blend_asym")


def legacy_preset(data: dict[str, Any]) -> str:
    """The preset with the members an old config (null or missing blend weights: "the validated
    value for the members that are on", as the code before the presets had it) has on: no kNN
    part -> "plain"; else the asymmetric member on -> "full"; else the implicit member on ->
    "knn-implicit"; else "knn-only". A null weight counts as on: it meant the validated value."""
    get = {f.name: f.default for f in fields(ModelConfig)} | data

    def on(weight: str) -> bool:
        return get[weight] is None or get[weight] != 0

    if not (get["knn_neighbours"] > 0 and get["blend_knn"] != 0):
        return "plain"
    if get["rank"] > 0 and get["asym_iterations"] > 0 and on("blend_asym"):
        return "full"
    if get["implicit_rank"] > 0 and on("blend_implicit"):
        return "knn-implicit"
    return "knn-only"


# Above this many ratings the item-kNN part is left out by default. Its neighbour pass and the
# neighbour reads in recommend grow faster than the data: on the 25M synthetic set it took the
# refit from 82 s to 217 s and recommend from 0.6 ms to 15 ms, beyond the 120 s / 2 ms budgets
# (bench/bench_recommender.py). Biases + factors alone are ~0.013 RMSE worse on ML-small.
KNN_MAX_RATINGS = 5_000_000


def default_config_for(n_ratings: int) -> ModelConfig:
    """The default configuration for a data set of ``n_ratings`` ratings: the "plain" preset
    above :data:`KNN_MAX_RATINGS`, else "full"."""
    return PRESETS["plain"] if n_ratings > KNN_MAX_RATINGS else PRESETS["full"]
