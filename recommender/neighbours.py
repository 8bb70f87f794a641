"""Item-item neighbours on the residuals of the biases (the kNN half of the blend).

Only the top ``k`` positive neighbours of each movie are kept, as a sparse movies x movies
matrix ``S`` (``S[i, j] = s_ij``), so memory is ``O(movies * k)``, never ``movies^2``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# Rows of the movie x movie similarity computed at once; bounds the dense block to
# ``_BLOCK_BYTES`` whatever the catalogue size.
_BLOCK_BYTES = 48 * 2**20


def item_neighbours(
    item_csr: sp.csr_matrix,
    k: int,
    shrink: float,
    max_movies: int | None = None,
) -> sp.csr_matrix:
    """Return the sparse top-``k`` similarity matrix of the movies (rows of ``item_csr``).

    ``item_csr`` holds the residuals ``y_ui`` (movies x users). With ``z_i`` the residual vector
    of movie ``i`` and ``n_ij`` the number of users who rated both:

        s_ij = (z_i . z_j) / (|z_i| |z_j|) * n_ij / (n_ij + shrink)

    Self-similarity and ``s_ij <= 0`` are dropped. Only the ``max_movies`` most-rated movies take
    part when given (bounded cost on big catalogues); the others get no neighbours. (Norms over
    the co-rating users only, Pearson-baseline style, validated worse: 0.8508 vs 0.8466 blended.)
    """
    n_items = item_csr.shape[0]
    if k == 0 or n_items == 0 or item_csr.nnz == 0:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    counts = np.diff(item_csr.indptr)
    active = np.flatnonzero(counts > 0)
    if max_movies is not None and active.size > max_movies:
        active = np.sort(active[np.argsort(-counts[active], kind="stable")[:max_movies]])
    z = item_csr[active].astype(np.float32)
    norms = np.sqrt(np.asarray(z.multiply(z).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    zn = sp.diags(inv.astype(np.float32)) @ z
    znt = zn.T.tocsr()
    ind = z.copy()
    ind.data[:] = 1.0
    indt = ind.T.tocsr()
    n_act = active.size
    kk = min(k, n_act - 1)
    block = max(1, _BLOCK_BYTES // (4 * max(n_act, 1) * 3))
    rows_out, cols_out, vals_out = [], [], []
    for start in range(0, n_act, block):
        stop = min(start + block, n_act)
        sim = (zn[start:stop] @ znt).toarray()
        if shrink > 0:
            co = (ind[start:stop] @ indt).toarray()
            sim *= co / (co + np.float32(shrink))
        sim[np.arange(stop - start), np.arange(start, stop)] = 0.0
        if kk <= 0:
            continue
        top = np.argpartition(-sim, kk - 1, axis=1)[:, :kk]
        val = np.take_along_axis(sim, top, axis=1)
        keep = val > 0
        r = np.repeat(np.arange(start, stop), kk).reshape(-1, kk)
        rows_out.append(active[r[keep]])
        cols_out.append(active[top[keep]])
        vals_out.append(val[keep].astype(np.float32))
    if not rows_out:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    s = sp.csr_matrix(
        (np.concatenate(vals_out), (np.concatenate(rows_out), np.concatenate(cols_out))),
        shape=(n_items, n_items),
        dtype=np.float32,
    )
    s.sort_indices()
    return s
