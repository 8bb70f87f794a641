"""Movie recommendations from explicit ratings: pure numpy/scipy, ratings in, model out.

    from recommender import Model, ModelConfig, Ratings

    model = Model.fit(Ratings(user_ids, movie_ids, values))   # values on the 1-10 scale
    profile = model.fold_in({movie_id: rating, ...})          # a user's full history
    model.recommend(profile, n=10)                             # [(movie_id, predicted), ...]

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
from recommender.model import FORMAT_VERSION, GroupPick, Model, UserProfile
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
    "Ratings",
    "RecommenderError",
    "UnknownMovie",
    "UserProfile",
]
