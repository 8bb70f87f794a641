"""Named exceptions raised by the storage layer; the bot and the CLI translate them."""


class StorageError(Exception):
    """Base class for every error the storage layer raises on purpose."""


class InvalidRating(StorageError):
    """A rating outside 1-10, or not a whole number."""


class InvalidArgument(StorageError):
    """An id, name or query that cannot be stored or looked up (wrong type, empty, too long)."""


class UnknownMovie(StorageError):
    """A movie id that is not in the catalog."""


class UnknownUser(StorageError):
    """A user id that has never been stored."""


class DatasetError(StorageError):
    """A MovieLens folder or zip that is missing files or has malformed rows."""


class SchemaError(StorageError):
    """A database written by a newer moviebot, or not a moviebot database at all."""
