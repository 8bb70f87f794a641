"""A flat map of movies from their factors: landmark MDS on cosines, then PCA. Pure numpy.

With ``u_i = q_i / |q_i|`` the unit factors of the movies to map (rows of ``U``, n x rank) and a
set of anchor movies ``A`` among them, the cosines between every movie and the anchors are
``K = U U_A^T``. Writing the anchors' Gram matrix ``G_AA = U_A U_A^T = V L V^T`` and keeping
the eigenpairs with ``l > 1e-9 * l_max`` (r of them: the rank when the anchors span the factor
space),

    X = K V L^{-1/2}

equals ``U`` up to an orthogonal rotation (landmark MDS; exact here, because cosines of unit
vectors are their dot products), so ``X X^T = U U^T``. The map is the PCA of ``X``: centre it
and keep the top two right singular vectors ``W`` of its SVD,

    xy = (X - mean) W

A movie off the map is placed from its own cosines to the anchors by the same formula
(:meth:`LandmarkMap.place`).

    units, nonzero = unit_rows(model.movie_factors(ids))
    layout, xy = LandmarkMap.fit(units, anchor_rows)   # xy: (n, 2), one row per unit
    layout.place(other_unit)                            # (2,)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.errors import NumericalError

# Eigenvalues of the anchors' Gram matrix below this share of the largest are dropped.
RELATIVE_EIGENVALUE_FLOOR = 1e-9


def unit_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(units, nonzero)``: each row of ``vectors`` scaled to length 1, and which rows have a
    length at all (a zero row stays zero: it has no direction)."""
    norms = np.linalg.norm(vectors, axis=1)
    nonzero = norms > 0
    return vectors / np.where(nonzero, norms, 1.0)[:, None], nonzero


@dataclass(frozen=True)
class LandmarkMap:
    """The fitted projection (see the module docstring): ``anchors`` = ``U_A`` (anchors x
    rank), ``lift`` = ``V L^{-1/2}`` (anchors x r), ``mean`` (r,) and ``components`` = ``W``
    (r x 2)."""

    anchors: np.ndarray
    lift: np.ndarray
    mean: np.ndarray
    components: np.ndarray

    @classmethod
    def fit(cls, units: np.ndarray, anchor_rows: np.ndarray) -> tuple[LandmarkMap, np.ndarray]:
        """The map of ``units`` (unit rows, n x rank) with ``units[anchor_rows]`` as anchors,
        and the 2-D coordinates of every row of ``units``. :class:`ValueError` without anchors
        or dimensions; :class:`NumericalError` for non-finite input."""
        units = np.asarray(units, dtype=np.float64)
        if units.ndim != 2 or units.shape[1] == 0 or len(anchor_rows) == 0:
            raise ValueError("a map needs unit vectors with at least one dimension and anchors")
        if not np.isfinite(units).all():
            raise NumericalError("the vectors to map are not all finite")
        anchors = units[anchor_rows]
        k_mat = units @ anchors.T
        gram = anchors @ anchors.T
        values, vectors = np.linalg.eigh(gram)
        kept = values > values.max() * RELATIVE_EIGENVALUE_FLOOR
        lift = vectors[:, kept] / np.sqrt(values[kept])
        x = k_mat @ lift
        mean = x.mean(axis=0)
        _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
        components = vt[:2].T
        return cls(anchors, lift, mean, components), (x - mean) @ components

    def place(self, unit: np.ndarray) -> np.ndarray:
        """The 2-D position of one unit vector (rank,), mapped or not."""
        return ((self.anchors @ unit) @ self.lift - self.mean) @ self.components
