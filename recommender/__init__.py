"""Movie recommendations from explicit ratings: pure numpy/scipy, ratings in, model out.

    from recommender import Model, ModelConfig, Ratings

    model = Model.fit(Ratings(user_ids, movie_ids, values))   # values on the 1-10 scale
    profile = model.fold_in({movie_id: rating, ...})          # a user's full history
    model.recommend(profile, n=10)                             # [(movie_id, predicted), ...]
    model.terms(profile, movie_ids).total()                    # unclipped r_hat, term by term

No SQL, no Telegram: storage/ produces the ratings, bot/ consumes the model.
"""

from recommender.config import ModelConfig
from recommender.errors import (
    BadRatings,
    ModelFileError,
    NotFitted,
    NumericalError,
    RecommenderError,
    UnknownMovie,
)
from recommender.model import GroupPick, Model
from recommender.model_file import FORMAT_VERSION
from recommender.rating_model import PredictionTerms, UserProfile
from recommender.ratings import Ratings

__all__ = [
    "FORMAT_VERSION",
    "BadRatings",
    "GroupPick",
    "Model",
    "ModelConfig",
    "ModelFileError",
    "NotFitted",
    "NumericalError",
    "PredictionTerms",
    "Ratings",
    "RecommenderError",
    "UnknownMovie",
    "UserProfile",
]
