"""Named exceptions of the recommender layer.

Callers catch :class:`RecommenderError` and turn it into a friendly reply or an ``Error: ...``
line; the subclasses say what went wrong.
"""


class RecommenderError(Exception):
    """Base class of every error the recommender raises on purpose."""


class BadRatings(RecommenderError, ValueError):
    """The ratings are malformed: mismatched lengths, NaN, out of the 1-10 range, duplicates."""


class NotFitted(RecommenderError):
    """A model was used before it was fitted (or a profile belongs to another model)."""


class UnknownMovie(RecommenderError, KeyError):
    """A movie id the model has never seen was asked about."""

    def __str__(self) -> str:  # KeyError would quote the message; keep it readable.
        return str(self.args[0]) if self.args else "unknown movie"


class ModelFileError(RecommenderError):
    """A model file is missing, truncated, corrupt or of an unsupported format version."""


class NumericalError(RecommenderError):
    """The fit produced non-finite numbers (NaN or inf in factors or biases)."""
