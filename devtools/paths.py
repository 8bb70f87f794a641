"""Where things are: the repository, its deploy/ folder and the MovieLens data beside it.

CI clones the project with ``shared/`` next to it (``../shared/data/ml-latest-small``);
``$MOVIEBOT_SHARED_DATA`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


def shared_data_dir() -> Path:
    """MovieLens latest-small from ../shared (CI clones the project with shared/ beside it)."""
    return Path(os.environ.get("MOVIEBOT_SHARED_DATA", REPO.parent / "shared/data/ml-latest-small"))


def shared_split() -> Path | None:
    """The fixed train/test split every accuracy figure is quoted on, if it is there."""
    split = shared_data_dir() / "split-seed42"
    return split if (split / "train.csv").exists() else None
