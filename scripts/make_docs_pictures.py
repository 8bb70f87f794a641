"""Render docs/taste.png and docs/map.png with moviebot's own code, for a demo user.

Builds a throwaway database from the bundled MovieLens catalog, fits the default model, rates
fifteen movies as a demo user (likes animation and science fiction, dislikes horror) and draws
both pictures. Nothing outside docs/ is written.

    .venv/bin/python scripts/make_docs_pictures.py            # writes docs/taste.png, docs/map.png
    .venv/bin/python scripts/make_docs_pictures.py --focus "Frozen 2013"
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.files.charts import map_data, taste_data  # noqa: E402
from bot.files.drawing import movie_map, taste_chart  # noqa: E402
from bot.service import MovieService  # noqa: E402
from moviebot.paths import bundled_dataset  # noqa: E402
from moviebot.training import train  # noqa: E402
from storage.db import connect  # noqa: E402
from storage.movielens import import_movielens  # noqa: E402
from storage.ratings import set_rating  # noqa: E402
from storage.search import clear_winner  # noqa: E402
from storage.users import save_user  # noqa: E402

DEMO_USER = 1_000_000_001
DEMO_RATINGS = {
    "Toy Story 1995": 9,
    "Finding Nemo 2003": 9,
    "Up 2009": 10,
    "Spirited Away 2001": 10,
    "WALL-E 2008": 10,
    "The Matrix 1999": 9,
    "Inception 2010": 8,
    "Interstellar 2014": 9,
    "Back to the Future 1985": 8,
    "The Lord of the Rings: The Fellowship of the Ring 2001": 8,
    "Amelie 2001": 7,
    "Titanic 1997": 5,
    "Saw 2004": 1,
    "Scream 1996": 3,
    "The Exorcist": 2,
    "The Ring 2002": 4,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs", help="folder for the PNGs")
    parser.add_argument("--focus", help="a title to centre the map on, e.g. 'Frozen 2013'")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path, model_path = Path(tmp) / "demo.db", Path(tmp) / "demo.model.npz"
        db = connect(db_path)
        import_movielens(db, bundled_dataset())
        db.close()
        model = train(db_path, model_path).model
        db = connect(db_path)
        service = MovieService(db, model)
        save_user(db, DEMO_USER, "Demo")
        for title, score in DEMO_RATINGS.items():
            match = clear_winner(service.find(title, limit=3))
            if match is None:
                raise SystemExit(f"Error: no clear match for {title!r}")
            set_rating(db, DEMO_USER, match.movie_id, score)
        focus = None
        if args.focus:
            match = clear_winner(service.find(args.focus, limit=3))
            focus = match.movie_id if match else None
        args.out.mkdir(parents=True, exist_ok=True)
        for name, png in (
            ("taste.png", taste_chart(taste_data(service, DEMO_USER))),
            ("map.png", movie_map(map_data(service, DEMO_USER, focus))),
        ):
            (args.out / name).write_bytes(png)
            print(f"{args.out / name}: {len(png) // 1024} KB")
        db.close()


if __name__ == "__main__":
    main()
