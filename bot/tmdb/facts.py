"""What the bot keeps of a TMDB film: its poster, runtime, overview in every language TMDB
has, where it can be watched in every country (JustWatch's data, through TMDB), and when it
came out (its first release, and its first theatrical or digital release by country).

``FilmFacts.from_tmdb(body)`` reads GET /movie/{id} with external_ids, images,
watch/providers, release_dates and translations appended; ``to_json``/``from_json`` is what
the cache (storage/tmdb_cache.py) stores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

KINDS = ("flatrate", "rent", "buy")  # TMDB's names: stream (subscription), rent, buy
# TMDB's release types that make a film watchable: 2 theatrical (limited), 3 theatrical,
# 4 digital (1 is a premiere, 5 physical, 6 TV).
OUT_TYPES = (2, 3, 4)


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
    release_date: str | None = None  # TMDB's primary release date ("1995-10-30")
    releases: dict[str, str] = field(default_factory=dict)  # country -> first OUT_TYPES date

    def overview(self, language: str) -> str | None:
        """The overview in `language`, None when TMDB has none in it."""
        return self.overviews.get(language.split("-")[0].lower()) or None

    def offers_in(self, country: str) -> Offers | None:
        offers = self.offers.get(country.upper())
        return None if offers is None or offers.empty else offers

    def streams_in(self, country: str) -> tuple[tuple[int, str], ...]:
        """The services streaming it (flatrate) in `country`, as (provider id, name)."""
        offers = self.offers_in(country)
        return offers.flatrate if offers is not None else ()

    def out_on(self, country: str) -> date | None:
        """When it came (or comes) out in `country`: its first theatrical or digital release
        there, else its primary release date; None when TMDB knows no date (old cached facts
        carry none either, so None is "unknown", never "unreleased")."""
        found = self.releases.get(country.upper()) or self.release_date
        try:
            return date.fromisoformat(found[:10]) if found else None
        except ValueError:
            return None

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
            (body.get("release_date") or "")[:10] or None,
            _releases(body.get("release_dates") or {}),
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
                "release_date": self.release_date,
                "releases": self.releases,
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
            data.get("release_date"),  # facts cached before dates were kept have none
            data.get("releases") or {},
        )


def _services(items: list[dict[str, Any]]) -> tuple[tuple[int, str], ...]:
    ordered = sorted(items, key=lambda item: item.get("display_priority", 0))
    return tuple((int(item["provider_id"]), str(item["provider_name"])) for item in ordered)


def _releases(body: dict[str, Any]) -> dict[str, str]:
    """Country -> the first theatrical or digital release date there ("2026-12-18")."""
    found: dict[str, str] = {}
    for country in body.get("results") or []:
        code = country.get("iso_3166_1")
        days = [
            str(item.get("release_date") or "")[:10]
            for item in country.get("release_dates") or []
            if item.get("type") in OUT_TYPES
        ]
        days = [day for day in days if len(day) == 10]
        if isinstance(code, str) and days:
            found[code.upper()] = min(days)
    return found
