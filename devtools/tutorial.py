"""The classic 10-movie, 5-user tutorial example, as data and as a MovieLens-format folder."""

from __future__ import annotations

import csv
from pathlib import Path

MOVIES = [
    ("Harold and Kumar Escape From Guantanamo Bay", 2008, "Adventure|Comedy"),
    ("Ted", 2012, "Comedy|Fantasy"),
    ("Straight Outta Compton", 2015, "Drama"),
    ("A Very Harold and Kumar Christmas", 2011, "Comedy"),
    ("Notorious", 2009, "Drama"),
    ("Get Rich Or Die Tryin'", 2005, "Crime|Drama"),
    ("Frozen", 2013, "Animation|Children"),
    ("Tangled", 2010, "Animation|Children"),
    ("Cinderella", 2015, "Children|Drama"),
    ("Toy Story 3", 2010, "Animation|Children"),
]
# Rows are movies, columns the five users; 0 means not rated. Scale 1-10.
RATINGS = [
    [8, 4, 0, 0, 4],
    [0, 0, 8, 10, 4],
    [8, 10, 0, 0, 6],
    [10, 10, 8, 10, 10],
    [0, 0, 0, 0, 0],
    [2, 0, 4, 0, 6],
    [8, 6, 4, 0, 0],
    [0, 0, 6, 4, 0],
    [0, 6, 0, 4, 10],
    [0, 4, 6, 8, 8],
]
# The sixth, new user: movie index -> rating.
NEW_USER = {0: 7, 4: 8, 7: 3}
MEANS_WITH_NEW_USER = [5.75, 7.333, 8, 9.6, 8, 4, 6, 4.333, 6.667, 6.5]


def movielens_title(title: str, year: int) -> str:
    """Write the title the way MovieLens does: "Very Harold and Kumar Christmas, A (2011)"."""
    for article in ("A ", "The "):
        if title.startswith(article):
            title = f"{title[len(article) :]}, {article.strip()}"
    return f"{title} ({year})"


def write_movielens_folder(folder: Path) -> Path:
    """Write the tutorial as a MovieLens dataset: movie ids 1-10, user ids 1-5, stars = score/2."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "movies.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["movieId", "title", "genres"])
        for i, (title, year, genres) in enumerate(MOVIES, start=1):
            writer.writerow([i, movielens_title(title, year), genres])
    with (folder / "ratings.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        for movie, row in enumerate(RATINGS, start=1):
            for user, score in enumerate(row, start=1):
                if score:
                    writer.writerow([user, movie, f"{score / 2:.1f}", 1_600_000_000 + movie])
    with (folder / "links.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["movieId", "imdbId", "tmdbId"])
        for i in range(1, len(MOVIES) + 1):
            writer.writerow([i, f"{1000 + i:07d}", 5000 + i])
    return folder
