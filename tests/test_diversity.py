"""Franchises from titles and the re-rank that keeps one from filling a list."""

from __future__ import annotations

from recommender.diversity import diversify, franchise_keys, title_stem


def test_sequels_and_series_share_a_franchise_key() -> None:
    titles = {
        1: "Harry Potter and the Sorcerer's Stone (a.k.a. Harry Potter and the Sorcerer) (2001)",
        2: "Harry Potter and the Chamber of Secrets (2002)",
        3: "Toy Story (1995)",
        4: "Toy Story 2 (1999)",
        5: "Star Wars: Episode IV - A New Hope (1977)",
        6: "Star Wars: Episode V - The Empire Strikes Back (1980)",
        7: "Lord of the Rings: The Two Towers, The (2002)",
        8: "Lord of the Rings: The Return of the King, The (2003)",
        9: "Lord of War (2005)",
        10: "Batman (1989)",
        11: "Batman Returns (1992)",
        12: "Matrix, The (1999)",
        13: "Matrix Reloaded, The (2003)",
        14: "Godfather: Part II, The (1974)",
        15: "Godfather, The (1972)",
        16: "Heat (1995)",
    }
    k = franchise_keys(titles)
    for a, b in [(1, 2), (3, 4), (5, 6), (7, 8), (10, 11), (12, 13), (14, 15)]:
        assert k[a] == k[b], (titles[a], titles[b])
    assert k[7] != k[9] and k[3] != k[16]
    assert len(set(k.values())) == 9


def test_title_stem_drops_year_article_subtitle_and_sequel_number() -> None:
    assert title_stem("Die Hard 2 (1990)") == "die hard"
    assert title_stem("Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)") == "amelie"
    assert title_stem("Alien³ (a.k.a. Alien 3) (1992)") != ""


def test_no_franchise_takes_more_than_two_places_and_the_second_is_spread() -> None:
    ranked = list(range(1, 15))
    fr = {1: "hp", 2: "hp", 3: "hp", 4: "hp", 5: "hp", 6: "ts", 7: "ts", 8: "x"}
    out = diversify(ranked, fr, 10)
    assert len(out) == 10
    assert sum(fr.get(m) == "hp" for m in out) == 2
    assert out[0] == 1 and out.index(2) >= 3  # the second Potter film three places down
    assert out.index(7) - out.index(6) >= 3
    assert set(out) <= set(ranked)


def test_diversify_keeps_order_when_nothing_repeats_and_fills_when_it_must() -> None:
    assert diversify([3, 1, 2], {}, 10) == [3, 1, 2]
    # Only one franchise: two of it, however long the list asked for.
    assert diversify([1, 2, 3, 4], dict.fromkeys([1, 2, 3, 4], "a"), 10) == [1, 2]
    # Two franchises, no room to spread: the gap gives way, the cap does not.
    assert diversify([1, 2, 3, 4], {1: "a", 2: "a", 3: "b", 4: "b"}, 4) == [1, 3, 2, 4]
