"""The movie map's maths (recommender/projection.py) on tiny vectors with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.errors import NumericalError
from recommender.projection import LandmarkMap, unit_rows


def tilted_plane() -> np.ndarray:
    """A rotation taking the xy-plane of 3-D space to a tilted plane through the origin."""
    a, b = 0.7, -0.4
    about_x = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    about_z = np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    return about_z @ about_x


def on_circle(degrees) -> np.ndarray:
    """Unit vectors at these angles on the unit circle, in the tilted plane."""
    t = np.radians(np.asarray(degrees, float))
    flat = np.stack([np.cos(t), np.sin(t), np.zeros_like(t)], axis=1)
    return flat @ tilted_plane().T


def distances(points: np.ndarray) -> np.ndarray:
    return np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)


def test_a_hexagon_in_a_tilted_plane_maps_to_a_unit_hexagon() -> None:
    units = on_circle([0, 60, 120, 180, 240, 300])
    # Three anchors span the plane; their Gram matrix has rank 2 (the third direction dropped).
    layout, xy = LandmarkMap.fit(units, np.array([0, 1, 2]))
    assert layout.lift.shape == (3, 2)
    assert xy.mean(axis=0) == pytest.approx([0, 0], abs=1e-12)
    assert np.linalg.norm(xy, axis=1) == pytest.approx([1.0] * 6)  # radius 1 around the centre
    assert distances(xy) == pytest.approx(distances(units), abs=1e-12)
    assert distances(xy)[0, 1] == pytest.approx(1.0)  # a side of the unit hexagon is 1


def test_the_full_rank_lift_keeps_every_cosine() -> None:
    rng = np.random.default_rng(3)
    units, _ = unit_rows(rng.normal(size=(12, 4)))
    layout, _ = LandmarkMap.fit(units, np.arange(6))
    lifted = (units @ layout.anchors.T) @ layout.lift
    assert lifted @ lifted.T == pytest.approx(units @ units.T, abs=1e-10)


def test_place_puts_a_mapped_vector_on_its_point_and_a_new_one_between_its_neighbours() -> None:
    units = on_circle([0, 60, 120, 180, 240, 300])
    layout, xy = LandmarkMap.fit(units, np.array([0, 1, 2]))
    assert layout.place(units[4]) == pytest.approx(xy[4], abs=1e-12)
    halfway = layout.place(on_circle([30])[0])
    chord_30 = 2 * np.sin(np.radians(15))
    assert np.linalg.norm(halfway) == pytest.approx(1.0)
    assert np.linalg.norm(halfway - xy[0]) == pytest.approx(chord_30)
    assert np.linalg.norm(halfway - xy[1]) == pytest.approx(chord_30)


def test_unit_rows_scale_to_length_one_and_leave_zero_rows_alone() -> None:
    units, nonzero = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0], [0.0, -2.0]]))
    assert units.tolist() == [[0.6, 0.8], [0.0, 0.0], [0.0, -1.0]]
    assert nonzero.tolist() == [True, False, True]


def test_no_anchors_no_dimensions_or_nan_are_errors() -> None:
    units = on_circle([0, 90, 180])
    with pytest.raises(ValueError):
        LandmarkMap.fit(units, np.array([], dtype=np.int64))
    with pytest.raises(ValueError):
        LandmarkMap.fit(np.zeros((3, 0)), np.array([0]))
    units[1, 0] = np.nan
    with pytest.raises(NumericalError):
        LandmarkMap.fit(units, np.array([0, 1]))
