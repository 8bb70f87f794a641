"""Where moviebot keeps its files: the bundled dataset; the model and the console's pictures
beside the database."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def bundled_dataset() -> Path:
    """MovieLens latest-small, zipped inside the package (license: data/README.txt)."""
    return Path(str(files("moviebot") / "data" / "ml-latest-small.zip"))


def model_path_for(db_path: Path) -> Path:
    """The trained model lives next to its database: moviebot.db -> moviebot.model.npz."""
    return db_path.with_name(db_path.stem + ".model.npz")


def pictures_dir_for(db_path: Path) -> Path:
    """Where the console chat writes /taste and /map PNGs: moviebot.db -> moviebot-pictures/."""
    return db_path.with_name(db_path.stem + "-pictures")
