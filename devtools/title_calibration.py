"""Choose title search's acceptance rule on a labelled set of what people type.

    python -m devtools.title_calibration [--db catalog.db] [--extra 60000]

tests/data/title_queries.csv holds typed texts, each with the movie it means in the bundled
catalog (titles as typed: lower case, no punctuation, no article, with years, with one or two
letters swapped, dropped or doubled, partial titles, alternative and non-English titles) or
with none (junk: keyboard mashes, greetings, filler words, injection attempts, numbers).

For each threshold of the rule (storage.search.Rule) the table shows, on that set:
- exact: real texts taken without asking and right / wrong, and junk taken (which would save a
  rating nobody meant);
- resolved: real texts taken right, or asked about with the right movie first;
- junk asked: junk that gets a "Did you mean ...?" instead of a refusal (harmless, but noise).
Then the chosen rule's figures per kind of text. The targets: junk taken 0; resolved >= 95 %.
Without --db the bundled catalog is imported into a temporary database (a few seconds).
With --extra N the catalog is the size of an IMDb one: the bundled films with IMDb-like votes
plus N synthetic films and their aliases (devtools/synthetic_titles.py), so the junk texts meet
some 250,000 names and real titles meet namesakes.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from devtools.paths import REPO
from devtools.synthetic_titles import synthetic_rows
from storage.db import connect
from storage.movies import title_rows
from storage.search import RULE, Fit, Kind, Rule, TitleIndex, TitleMatch

LABELLED_SET = REPO / "tests/data/title_queries.csv"


@dataclass(frozen=True)
class Labelled:
    """One typed text and the movie it means (None: junk, means no movie)."""

    query: str
    movie_id: int | None
    kind: str


@dataclass(frozen=True)
class Scored:
    """A labelled text with what search found for it (scored once, judged by many rules)."""

    item: Labelled
    matches: list[TitleMatch]
    fit: Fit | None


@dataclass(frozen=True)
class Figures:
    """How one rule does on the labelled set."""

    real: int
    junk: int
    exact_right: int
    exact_wrong: int
    junk_exact: int
    resolved: int  # exact right, or asked with the right movie first
    junk_asked: int

    @property
    def resolved_share(self) -> float:
        return self.resolved / self.real if self.real else 0.0


def load_labelled(path: Path = LABELLED_SET) -> list[Labelled]:
    """The labelled set."""
    with path.open(newline="", encoding="utf-8") as file:
        return [
            Labelled(row["query"], int(row["movie_id"]) if row["movie_id"] else None, row["kind"])
            for row in csv.DictReader(file)
        ]


def score(index: TitleIndex, items: list[Labelled]) -> list[Scored]:
    """Search every labelled text once."""
    scored = []
    for item in items:
        matches = index.search(item.query)
        scored.append(Scored(item, matches, index.fit(item.query, matches[0]) if matches else None))
    return scored


def figures(scored: list[Scored], rule: Rule) -> Figures:
    """Count what `rule` makes of every scored text."""
    counts: Counter[str] = Counter()
    for s in scored:
        kind = rule.decide(s.matches, s.fit)
        first = s.matches[0].movie_id if s.matches else None
        if s.item.movie_id is None:
            counts["junk"] += 1
            counts["junk_exact"] += kind is Kind.EXACT
            counts["junk_asked"] += kind is Kind.ASK
            continue
        counts["real"] += 1
        right = first == s.item.movie_id
        counts["exact_right"] += kind is Kind.EXACT and right
        counts["exact_wrong"] += kind is Kind.EXACT and not right
        counts["resolved"] += kind is not Kind.NONE and right
    return Figures(**{f.name: counts[f.name] for f in dataclasses.fields(Figures)})


def _row(label: str, f: Figures) -> str:
    return (
        f"{label:<28} {f.exact_right / f.real:>8.1%} {f.exact_wrong:>6} {f.junk_exact:>6} "
        f"{f.resolved_share:>9.1%} {f.junk_asked / max(f.junk, 1):>8.1%}"
    )


def report(scored: list[Scored]) -> str:
    """The threshold tables and the chosen rule's figures."""
    head = f"{'rule':<28} {'exact ok':>8} {'wrong':>6} {'junk':>6} {'resolved':>9} {'j.asked':>8}"
    lines = [f"{len(scored)} labelled texts", "", "exact threshold (Fit.whole):", head]
    for exact in (70, 75, 80, 85, 88, 90, 92, 95, 100):
        rule = dataclasses.replace(RULE, exact=float(exact))
        lines.append(_row(f"exact={exact}", figures(scored, rule)))
    lines += ["", "ask threshold (Fit.whole):", head]
    for ask in (60, 65, 70, 75, 80, 85, 90):
        lines.append(_row(f"ask={ask}", figures(scored, dataclasses.replace(RULE, ask=ask))))
    lines += ["", "partial title cover:", head]
    for cover in (0.0, 0.2, 0.25, 0.3, 0.4, 0.5, 1.01):
        rule = dataclasses.replace(RULE, partial_cover=cover)
        lines.append(_row(f"partial_cover={cover}", figures(scored, rule)))
    lines += ["", "one-word obscure title (ratings below):", head]
    for obscure in (0, 2, 5, 10, 20, 60):
        rule = dataclasses.replace(RULE, obscure=obscure)
        lines.append(_row(f"obscure={obscure}", figures(scored, rule)))
    lines += ["", "one-word title of a film nobody here rated (popularity below):", head]
    for obscure_new in (0, 5, 20, 40, 60, 100):
        rule = dataclasses.replace(RULE, obscure_new=obscure_new)
        lines.append(_row(f"obscure_new={obscure_new}", figures(scored, rule)))
    lines += ["", f"chosen: {RULE}", head]
    for kind in sorted({s.item.kind for s in scored}):
        subset = [s for s in scored if s.item.kind == kind]
        f = figures(subset, RULE)
        if f.real:
            lines.append(_row(f"{kind} ({f.real})", f))
        else:
            taken, asked = f.junk_exact, f.junk_asked
            lines.append(f"{kind + f' ({f.junk})':<28} junk taken {taken}, asked {asked}")
    lines.append(_row("all", figures(scored, RULE)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a moviebot database with the bundled catalog")
    parser.add_argument("--extra", type=int, default=0, help="synthetic films to add")
    args = parser.parse_args(argv)
    if args.db is not None:
        rows = title_rows(connect(args.db))
    else:
        from moviebot.paths import bundled_dataset
        from storage.movielens import import_movielens

        with tempfile.TemporaryDirectory() as folder:
            db = connect(Path(folder) / "catalog.db")
            import_movielens(db, bundled_dataset())
            rows = title_rows(db)
            db.close()
    if args.extra:
        rows = synthetic_rows(rows, args.extra)
    index = TitleIndex(rows)
    print(f"{len(index):,} films, {index.name_count:,} names")
    print(report(score(index, load_labelled())))


if __name__ == "__main__":
    main()
