"""`moviebot train`, `evaluate`, `recommend` and `similar`: the model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from moviebot.commands.common import (
    CommandError,
    emit,
    ensure_catalog,
    fit_progress,
    model_path_of,
    open_db,
    open_service,
)
from storage.movies import get_movie
from storage.search import clear_winner
from storage.users import get_user

if TYPE_CHECKING:
    pass


def cmd_train(args: argparse.Namespace) -> int:
    from moviebot.training import clean_leftovers, train

    db = open_db(args)
    ensure_catalog(db)
    db.close()
    clean_leftovers(Path(args.db), model_path_of(args))
    with fit_progress(Path(args.db), f"engine {args.engine}"):
        result = train(
            Path(args.db),
            model_path_of(args),
            engine=args.engine,
            master=args.master,
            workdir=args.workdir,
        )
    data = {
        "fit_id": result.fit_id,
        "ratings": result.n_ratings,
        "fit_seconds": round(result.seconds, 3),
        "model": str(model_path_of(args)),
    }
    emit(
        args,
        data,
        f"Fitted on {result.n_ratings:,} ratings in {result.seconds:.1f} s; "
        f"saved to {data['model']} (fit {result.fit_id}).",
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from recommender.evaluate import evaluate, format_report
    from recommender.movielens_files import load_movielens_ratings

    for path in (args.train, args.test):
        if not Path(path).is_file():
            raise CommandError(f"{path} is not a file")
    report = evaluate(
        load_movielens_ratings(args.train),
        load_movielens_ratings(args.test),
        include_dense_reference=not args.no_dense,
        catalog=_evaluation_catalog(args),
    )
    text = format_report(report)
    if args.no_dense:
        report["dense_reference_skipped"] = "--no-dense"
        text += "\ntutorial dense CG not run (--no-dense)."
    emit(args, report, text)
    return 0


def _evaluation_catalog(args: argparse.Namespace) -> dict | None:
    """Titles and genres for the list figures: ``--movies``, else a movies.csv beside the
    split's folder (MovieLens layout), else none."""
    from recommender.movielens_files import load_movielens_catalog

    beside = Path(args.train).resolve().parent.parent / "movies.csv"
    path = Path(args.movies) if args.movies else beside
    if not path.is_file():
        if args.movies:
            raise CommandError(f"{path} is not a file")
        return None
    return load_movielens_catalog(path)


def _resolve(service, title: str) -> int:
    service.find(title, limit=1)  # an empty or over-long title is an InvalidArgument
    resolution = service.resolve(title)
    if resolution.movie is not None:
        return resolution.movie.movie_id
    if not resolution.choices:
        raise CommandError(f"no movie matches {title!r}")
    # The bot's rule: only a strong clear match is acted on; the CLI cannot ask, so it lists.
    why = "ambiguous" if clear_winner(list(resolution.choices)) is None else "not a clear match"
    options = "; ".join(f"{m.label} (id {m.movie_id})" for m in resolution.choices)
    raise CommandError(f"{title!r} is {why}: {options}. Add the year, or use --id.")


def cmd_recommend(args: argparse.Namespace) -> int:
    service = open_service(args)
    if args.user is not None:
        get_user(service.db, args.user)  # an unknown user is an error, not a cold start
    picks = service.recommend(
        args.user if args.user is not None else 0, args.n, args.genre, years=args.years
    )
    data = [
        {
            "movie_id": p.movie.id,
            "title": p.movie.label,
            "score": round(p.score, 3),
            "genres": list(p.movie.genres),
            "because": {"movie_id": p.because[0].id, "rating": p.because[1]} if p.because else None,
        }
        for p in picks
    ]
    text = "\n".join(f"{i:>2}. {p.score:4.1f}  {p.movie.label}" for i, p in enumerate(picks, 1))
    emit(args, data, text or "Nothing to recommend.")
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    service = open_service(args)
    movie_id = args.id if args.id is not None else _resolve(service, " ".join(args.title))
    movie = get_movie(service.db, movie_id)
    nearest = service.similar(movie_id, args.n)
    data = {
        "movie": {"movie_id": movie.id, "title": movie.label},
        "similar": [
            {
                "movie_id": n.movie.id,
                "title": n.movie.label,
                "fans_also_liked": round(n.fans_liked, 4),
            }
            for n in nearest
        ],
    }
    lines = [f"Movies like {movie.label}:"] + [
        f"{i:>2}. {n.fans_liked:>4.0%}  {n.movie.label}" for i, n in enumerate(nearest, 1)
    ]
    emit(args, data, "\n".join(lines) if nearest else f"No similar movies known for {movie.label}.")
    return 0
