"""Which of a few hundred thousand names are worth scoring against a typed title.

Title search (storage/search.py) scores a query against a name by the best of rapidfuzz's
`ratio`, `token_sort_ratio` and, for names sharing a word with it, `token_set_ratio` x 0.9.
Scoring every name costs about 0.2 µs per name and scorer: fine for the 10k names of MovieLens,
some 100 ms per query at 250k names. This index picks the few thousand names that can score:

- character bigrams (of " name ", so word starts and ends count): the `NEAR` names sharing the
  most bigrams with the query, by Dice (2 shared / (query's + name's)). An edit-distance match
  above the search floor (60/100) shares most of its bigrams: a typo breaks at most two.
- words: `token_set_ratio` is max(T1, T2, T3) over the words both share (`sect`, s characters)
  and the rest of each side (`ab` of the query, `ba` of the name, a and b characters):
  T1 = 2s / (2s + 1 + a), T2 = 2s / (2s + 1 + b), T3 = ratio(sect ab, sect ba); 100 when one
  side has no other word. T1 and T2 follow from which query words a name has and its length,
  counted with one bincount over the query words' postings: the names whose T1 or T2 reaches
  the floor are scored. T3 is high only when the rests are alike too, and then the whole names
  are alike: those are among the trigram candidates, which are scored by token_set_ratio as
  well when they share a word. (Bounding T3 by lengths alone lets 30k names through for a
  query with "the" and "of" in it: 40 ms.)

Both are built with numpy over one string holding every name (offsets, not a list of strings):
about 100 bytes a name in all (measured: bench/bench_search.py).
"""

from __future__ import annotations

import numpy as np

# Names scored by edit distance per query: the best this many by shared bigrams. On the
# bundled catalog the labelled texts' best five then equal a full scan's for 812 of 813 (the
# other differs at 66.7); 804 with 1000 (tests/test_search_scale.py);
# bench/bench_search.py prints the agreement at 250k names.
NEAR = 2000
# Bigrams in more names than this are not counted when a query has RARE_GRAMS others: they
# pick little out, and their postings are most of a query's cost in a large catalog ("e ",
# "th", " s" are in 5-30 % of names). In the bundled catalog (11k names) none is left out.
COMMON_GRAM = 12_000
RARE_GRAMS = 4
# Bigrams, not trigrams: a typo in a short title ("amlie" for "alive") breaks every trigram.
GRAM = 2
_SEPARATOR = "\x00"


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


def _grams(codes: np.ndarray) -> np.ndarray:
    """Each position's GRAM characters as one int64 (21 bits a code point)."""
    if GRAM == 2:
        return (codes[:-1] << 21) | codes[1:]
    return (codes[:-2] << 42) | (codes[1:-1] << 21) | codes[2:]


class NameIndex:
    """Normalised names (no separator character in them), searchable by trigrams and words."""

    def __init__(self, names: list[str]) -> None:
        self.size = len(names)
        lengths = np.fromiter((len(n) for n in names), dtype=np.int64, count=self.size)
        self.lengths = lengths.astype(np.int32)
        self._text = _SEPARATOR.join(names)
        self._starts = np.zeros(self.size + 1, dtype=np.int64)
        np.cumsum(lengths + 1, out=self._starts[1:])
        self._build_trigrams(names, lengths)
        self._build_words(names)

    def name(self, i: int) -> str:
        return self._text[self._starts[i] : self._starts[i + 1] - 1]

    def names(self, indices: np.ndarray) -> list[str]:
        text = self._text
        starts, ends = self._starts[indices].tolist(), (self._starts[indices + 1] - 1).tolist()
        return [text[a:b] for a, b in zip(starts, ends, strict=True)]

    def _build_trigrams(self, names: list[str], lengths: np.ndarray) -> None:
        codes = _codes(_SEPARATOR.join(f" {n} " for n in names))
        owner = np.repeat(np.arange(self.size, dtype=np.int64), lengths + 3)[: codes.size]
        grams = _grams(codes)
        keep = codes[: grams.size] != 0
        for shift in range(1, GRAM):
            keep &= codes[shift : shift + grams.size] != 0
        grams, owner = grams[keep], owner[: grams.size][keep]
        # Sorting, not np.unique: numpy 2's hash-based unique takes seconds here.
        order = np.argsort(grams, kind="stable")
        grams, owner = grams[order], owner[order]
        new_gram = np.ones(grams.size, dtype=bool)
        new_gram[1:] = grams[1:] != grams[:-1]
        self._gram_codes = grams[new_gram]
        gram_ids = np.cumsum(new_gram) - 1
        pairs = gram_ids * self.size + owner  # sorted: by gram, then name (a stable sort)
        distinct = np.ones(pairs.size, dtype=bool)
        distinct[1:] = pairs[1:] != pairs[:-1]
        self._gram_postings = owner[distinct].astype(np.int32)
        self._gram_starts = np.searchsorted(
            gram_ids[distinct], np.arange(self._gram_codes.size + 1)
        ).astype(np.int64)
        self._grams_per_name = np.bincount(self._gram_postings, minlength=self.size).astype(
            np.int32
        )

    def _build_words(self, names: list[str]) -> None:
        n_words = np.zeros(self.size, dtype=np.int16)
        set_length = np.zeros(self.size, dtype=np.int32)
        every: list[str] = []
        for i, name in enumerate(names):
            distinct = set(name.split())
            n_words[i] = len(distinct)
            set_length[i] = sum(map(len, distinct)) + len(distinct) - 1
            every.extend(distinct)
        word_ids: dict[str, int] = {}
        # setdefault's second argument is read before the word is added: its new id.
        ids = np.asarray([word_ids.setdefault(w, len(word_ids)) for w in every], dtype=np.int64)
        owners = np.repeat(np.arange(self.size, dtype=np.int32), n_words)
        order = np.argsort(ids, kind="stable")
        self._word_ids = word_ids
        self._word_postings = owners[order]
        self._word_starts = np.searchsorted(ids[order], np.arange(len(word_ids) + 1))
        self._n_words = n_words
        self._set_length = set_length

    def near(self, key: str, allowed: np.ndarray | None = None, limit: int = NEAR) -> np.ndarray:
        """The names (indices, among `allowed` when given) sharing the most trigrams with
        `key`: at most `limit` of them, best by Dice first is not promised."""
        grams = np.unique(_grams(_codes(f" {key} ")))
        slots = np.searchsorted(self._gram_codes, grams)
        slots = slots[slots < self._gram_codes.size]
        slots = slots[np.isin(self._gram_codes[slots], grams)]
        if slots.size == 0:
            return np.zeros(0, dtype=np.int64)
        sizes = self._gram_starts[slots + 1] - self._gram_starts[slots]
        if (sizes <= COMMON_GRAM).sum() >= RARE_GRAMS:
            slots = slots[sizes <= COMMON_GRAM]
        postings = np.concatenate(
            [self._gram_postings[self._gram_starts[g] : self._gram_starts[g + 1]] for g in slots]
        )
        shared = np.bincount(postings, minlength=self.size)
        found = np.flatnonzero(shared)
        if allowed is not None:
            found = found[allowed[found]]
        if found.size <= limit:
            return found
        dice = shared[found] / (grams.size + self._grams_per_name[found])
        return found[np.argpartition(-dice, limit)[:limit]]

    def sharing(
        self, key: str, floor: float, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Names sharing a word with `key`: (those whose token_set_ratio is 100, one side's
        words all among the other's; those whose T1 or T2 can reach `floor`; a mask over
        all names of those sharing a word at all)."""
        distinct = set(key.split())
        known = [(w, self._word_ids[w]) for w in distinct if w in self._word_ids]
        empty = np.zeros(0, dtype=np.int64)
        if not known:
            return empty, empty, np.zeros(self.size, dtype=bool)
        starts = self._word_starts
        parts = [self._word_postings[starts[i] : starts[i + 1]] for _, i in known]
        weights = np.concatenate(
            [np.full(p.size, len(w) + 1.0) for p, (w, _) in zip(parts, known, strict=True)]
        )
        postings = np.concatenate(parts)
        shared = np.bincount(postings, minlength=self.size)
        found = np.flatnonzero(shared)
        if allowed is not None:
            found = found[allowed[found]]
        whole = (shared[found] == len(distinct)) | (shared[found] == self._n_words[found])
        rest = found[~whole]
        sect_plus = np.bincount(postings, weights=weights, minlength=self.size)[rest]
        s = sect_plus - 1.0
        a = sum(map(len, distinct)) + len(distinct) - 1 - s - 1.0
        b = self._set_length[rest] - s - 1.0
        t12 = 2 * s / (2 * s + 1 + np.minimum(a, b))
        return found[whole], rest[t12 * 100.0 >= floor - 1e-9], shared > 0
