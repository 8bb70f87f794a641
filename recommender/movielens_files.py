"""MovieLens files as the evaluation reads them: ``ratings.csv`` into :class:`Ratings` (1-10
scale) and ``movies.csv`` into titles, genres and years."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from recommender.errors import BadRatings
from recommender.ratings import Ratings


def load_movielens_ratings(path: str | os.PathLike[str]) -> Ratings:
    """Read a MovieLens ``ratings.csv`` (``userId,movieId,rating[,timestamp]``; 0.5-5 stars, CRLF
    or LF) into :class:`Ratings` on our 1-10 scale (stars x 2), with the timestamps when the
    file has them."""
    path = Path(path)
    try:
        with path.open("r", newline="") as fh:
            header = fh.readline().strip().split(",")
            if header[:3] != ["userId", "movieId", "rating"]:
                raise BadRatings(f"{path}: expected a userId,movieId,rating header, got {header}")
            timed = header[3:4] == ["timestamp"]
            cols = (0, 1, 2, 3) if timed else (0, 1, 2)
            data = np.loadtxt(fh, delimiter=",", usecols=cols, dtype=np.float64, ndmin=2)
    except OSError as e:
        raise BadRatings(f"cannot read {path}: {e}") from e
    except ValueError as e:
        raise BadRatings(f"{path}: malformed ratings: {e}") from e
    return Ratings(
        data[:, 0].astype(np.int64),
        data[:, 1].astype(np.int64),
        data[:, 2] * 2.0,
        data[:, 3] if timed else None,
    )


class CatalogMovie(NamedTuple):
    """What the list figures need of a movie: its title (franchises) and genres."""

    title: str
    genres: tuple[str, ...]
    year: int | None


def load_movielens_catalog(path: str | os.PathLike[str]) -> dict[int, CatalogMovie]:
    """Read a MovieLens ``movies.csv`` (``movieId,title,genres``) into ``{movie_id:
    CatalogMovie}`` (the year from the title's trailing "(1995)")."""
    path = Path(path)
    out = {}
    try:
        with path.open("r", newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not {"movieId", "title", "genres"} <= set(
                reader.fieldnames
            ):
                raise BadRatings(f"{path}: expected a movieId,title,genres header")
            for row in reader:
                year = re.search(r"\((\d{4})\)\s*$", row["title"])
                genres = tuple(g for g in row["genres"].split("|") if g != "(no genres listed)")
                out[int(row["movieId"])] = CatalogMovie(
                    row["title"], genres, int(year.group(1)) if year else None
                )
    except OSError as e:
        raise BadRatings(f"cannot read {path}: {e}") from e
    except (ValueError, KeyError) as e:
        raise BadRatings(f"{path}: malformed movies: {e}") from e
    return out
