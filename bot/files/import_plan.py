"""What importing a file would do for one user (bot/files/history_import.py plans it,
bot/files/history_preview.py words it, storage/imports.apply_import stores it)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Plan:
    """What importing a file would do for one user, and what it leaves out (and why)."""

    sources: list[str] = field(default_factory=list)
    rows: int = 0
    new: dict[int, int] = field(default_factory=dict)  # movie -> score, not rated here yet
    different: dict[int, tuple[int, int]] = field(default_factory=dict)  # movie -> (ours, file)
    same: int = 0
    save: list[int] = field(default_factory=list)  # new on the watchlist
    seen: list[int] = field(default_factory=list)  # newly marked seen
    already: int = 0  # watchlist and watched rows that are already so
    duplicates: int = 0
    not_in_catalog: list[str] = field(default_factory=list)
    newer: list[str] = field(default_factory=list)  # from after the catalog's newest year
    newest_year: int | None = None
    not_a_movie: list[str] = field(default_factory=list)
    weak: list[tuple[str, str | None]] = field(default_factory=list)  # (row, candidate)
    unreadable: list[int] = field(default_factory=list)  # line numbers
    id: int = field(default_factory=lambda: random.randrange(1, 2**31))

    @property
    def has_changes(self) -> bool:
        """Whether applying it would change anything."""
        return bool(self.new or self.different or self.save or self.seen)

    def to_json(self) -> dict[str, Any]:
        """What the tap needs, kept in storage/imports' pending_imports."""
        return {
            "id": self.id,
            "new": {str(k): v for k, v in self.new.items()},
            "replace": {str(k): file for k, (_, file) in self.different.items()},
            "save": self.save,
            "seen": self.seen,
        }

    def report(self) -> dict[str, Any]:
        """Every figure of the plan, for `moviebot import-ratings --json`."""
        return {
            "sources": self.sources,
            "rows": self.rows,
            "new_ratings": len(self.new),
            "rated_differently": len(self.different),
            "already_rated_same": self.same,
            "to_watchlist": len(self.save),
            "to_seen": len(self.seen),
            "already_there": self.already,
            "duplicates": self.duplicates,
            "not_in_catalog": self.not_in_catalog,
            "newer_than_catalog": self.newer,
            "not_a_movie": self.not_a_movie,
            "weak_matches": [{"row": row, "candidate": c} for row, c in self.weak],
            "unreadable_lines": self.unreadable,
        }
