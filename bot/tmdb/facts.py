"""What the bot keeps of a TMDB film: its poster, runtime, overview in every language TMDB
has, and where it can be watched in every country (JustWatch's data, through TMDB).

``FilmFacts.from_tmdb(body)`` reads GET /movie/{id} with external_ids, images,
watch/providers, release_dates and translations appended; ``to_json``/``from_json`` is what
the cache (storage/tmdb_cache.py) stores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

KINDS = ("flatrate", "rent", "buy")  # TMDB's names: stream (subscription), rent, buy


@dataclass(frozen=True)
class Offers:
    """One country's offers: the TMDB watch page and the services by kind, best first, as
    (provider id, name)."""

    link: str | None
    flatrate: tuple[tuple[int, str], ...] = ()
    rent: tuple[tuple[int, str], ...] = ()
    buy: tuple[tuple[int, str], ...] = ()

    def names(self, kind: str) -> list[str]:
        return [name for _, name in getattr(self, kind)]

    @property
    def empty(self) -> bool:
        return not (self.flatrate or self.rent or self.buy)


@dataclass(frozen=True)
class FilmFacts:
    """One film as TMDB describes it."""

    tmdb_id: int
    imdb_id: str | None = None
    poster_path: str | None = None
    runtime: int | None = None
    overviews: dict[str, str] = field(default_factory=dict)  # language ("es") -> overview
    offers: dict[str, Offers] = field(default_factory=dict)  # country ("ES") -> offers

    def overview(self, language: str) -> str | None:
        """The overview in `language`, None when TMDB has none in it."""
        return self.overviews.get(language.split("-")[0].lower()) or None

    def offers_in(self, country: str) -> Offers | None:
        offers = self.offers.get(country.upper())
        return None if offers is None or offers.empty else offers

    @classmethod
    def from_tmdb(cls, body: dict[str, Any]) -> FilmFacts:
        """The facts in a /movie/{id} answer (missing parts are simply absent)."""
        overviews: dict[str, str] = {}
        for item in (body.get("translations") or {}).get("translations", []):
            text = ((item.get("data") or {}).get("overview") or "").strip()
            language = item.get("iso_639_1")
            # Several regional versions of one language: keep the first non-empty one.
            if text and isinstance(language, str) and language not in overviews:
                overviews[language] = text
        if "en" not in overviews and (body.get("overview") or "").strip():
            overviews["en"] = body["overview"].strip()
        offers = {}
        for country, found in ((body.get("watch/providers") or {}).get("results") or {}).items():
            offers[country] = Offers(
                found.get("link"), *(_services(found.get(kind) or []) for kind in KINDS)
            )
        imdb_id = (body.get("external_ids") or {}).get("imdb_id") or body.get("imdb_id")
        return cls(
            int(body["id"]),
            imdb_id,
            body.get("poster_path") or None,
            body.get("runtime") or None,
            overviews,
            offers,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "tmdb_id": self.tmdb_id,
                "imdb_id": self.imdb_id,
                "poster_path": self.poster_path,
                "runtime": self.runtime,
                "overviews": self.overviews,
                "offers": {
                    cc: [o.link, *([list(p) for p in getattr(o, kind)] for kind in KINDS)]
                    for cc, o in self.offers.items()
                },
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> FilmFacts:
        data = json.loads(text)
        offers = {
            cc: Offers(link, *(tuple((int(i), str(n)) for i, n in kind) for kind in kinds))
            for cc, (link, *kinds) in data["offers"].items()
        }
        return cls(
            data["tmdb_id"],
            data["imdb_id"],
            data["poster_path"],
            data["runtime"],
            data["overviews"],
            offers,
        )


def _services(items: list[dict[str, Any]]) -> tuple[tuple[int, str], ...]:
    ordered = sorted(items, key=lambda item: item.get("display_priority", 0))
    return tuple((int(item["provider_id"]), str(item["provider_name"])) for item in ordered)
