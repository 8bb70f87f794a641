"""Matrix factorisation of baseline residuals: ALS (closed-form ridge solves) and the tutorial's
nonlinear conjugate gradient.

Both minimise the same objective over the rated entries ``(u, i)`` only,

    J(P, Q) = 1/2 sum_{(u,i) rated} (p_u . q_i - y_ui)^2 + reg/2 (|P|_F^2 + |Q|_F^2),

with ``y_ui`` the residual of the ratings after the biases. Ratings arrive as CSR arrays
``(indptr, indices, values)``, one row per user (or per movie for the other half step); nothing
is ever dense users x movies.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
import scipy.sparse as sp
import scipy.sparse.linalg

from recommender.errors import NumericalError

# Upper bound on the bytes of one padded batch (rows x max_count x rank) gathered for the
# batched Gram matrices; keeps peak memory flat whatever the data size.
_BATCH_BYTES = 32 * 2**20
FLOAT32_ABOVE = 5_000_000


def _batches(counts_sorted: np.ndarray, rank: int) -> list[tuple[int, int]]:
    """Cut rows (sorted by count) into ``[start, stop)`` batches of similar count.

    Rows in a batch are padded to the largest count, so a batch ends when the count grows by
    more than 25% (bounded padding waste) or the padded block would exceed ``_BATCH_BYTES``.
    """
    out = []
    n = counts_sorted.size
    start = 0
    per_row_item = rank * 4
    while start < n:
        c0 = max(int(counts_sorted[start]), 1)
        limit = int(c0 * 1.25) + 4
        stop = int(np.searchsorted(counts_sorted, limit, side="right"))
        stop = max(stop, start + 1)
        cmax = max(int(counts_sorted[stop - 1]), 1)
        max_rows = max(1, _BATCH_BYTES // (cmax * per_row_item))
        stop = min(stop, start + max_rows)
        out.append((start, stop))
        start = stop
    return out


def ridge_solve_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    values: np.ndarray,
    other: np.ndarray,
    reg: float,
    reg_exponent: float = 0.0,
    prior: np.ndarray | None = None,
) -> np.ndarray:
    """Solve every row's ridge regression against the fixed factors ``other``.

    For row ``r`` with rated columns ``J_r`` and residuals ``y_r``:

        x_r = (F_J^T F_J + reg I)^{-1} F_J^T y_r  =  F_J^T (F_J F_J^T + reg I)^{-1} y_r,
        F_J = other[J_r]

    (the second, dual form for rows with fewer ratings than factors: a smaller system). The
    penalty of row ``r`` is ``reg * n_r ** reg_exponent`` (0: the plain tutorial ``lambda``;
    1: the count-weighted lambda of Zhou et al. 2008).

    Rows are grouped by count and padded (padding points at an all-zero factor row, so it adds
    nothing), then the Gram matrices of a group are built by one stacked ``matmul`` and solved by
    one stacked ``np.linalg.solve``. Rows without ratings get zero factors.

    ``prior`` (a rank x rank symmetric positive definite matrix) replaces ``reg I``:
    ``x_r = (F_J^T F_J + prior)^{-1} F_J^T y_r`` (always the primal form); used by
    :func:`implicit_als`.
    """
    n_rows = indptr.size - 1
    rank = other.shape[1]
    out = np.zeros((n_rows, rank), dtype=np.float64)
    if rank == 0 or indices.size == 0:
        return out
    counts = np.diff(indptr)
    order = np.argsort(counts, kind="stable")
    order = order[counts[order] > 0]
    counts_sorted = counts[order]
    # Above FLOAT32_ABOVE ratings the Gram matrices are built in float32 (half the memory
    # traffic, twice the BLAS speed; the small systems are still solved in float64); below it
    # everything is float64, so small fits are exact to rounding.
    dt = np.float32 if indices.size > FLOAT32_ABOVE else np.float64
    padded = np.vstack([other, np.zeros((1, rank))]).astype(dt)
    pad_col = other.shape[0]
    for start, stop in _batches(counts_sorted, rank):
        rows = order[start:stop]
        c = counts[rows]
        width = int(c.max())
        lam = (reg * c.astype(np.float64) ** reg_exponent)[:, None, None]
        pos = indptr[rows][:, None] + np.arange(width)[None, :]
        valid = np.arange(width)[None, :] < c[:, None]
        pos = np.where(valid, pos, 0)
        cols = np.where(valid, indices[pos], pad_col)
        y = np.where(valid, values[pos], 0.0).astype(dt)
        f = padded[cols]  # (batch, width, rank)
        if width < rank and prior is None:
            # Fewer ratings than factors: the dual (Woodbury) form solves a width x width
            # system instead, x_r = F^T (F F^T + reg I)^{-1} y_r. Padded entries have F = 0,
            # y = 0, so their dual variables are 0 and they add nothing.
            kernel = np.einsum("bik,bjk->bij", f, f, optimize=True).astype(np.float64)
            kernel += lam * np.eye(width)
            alpha = np.linalg.solve(kernel, y[:, :, None].astype(np.float64))[:, :, 0]
            out[rows] = np.einsum("bik,bi->bk", f, alpha.astype(dt), optimize=True)
        else:
            gram = np.einsum("bik,bil->bkl", f, f, optimize=True).astype(np.float64)
            gram += lam * np.eye(rank) if prior is None else prior
            rhs = np.einsum("bik,bi->bk", f, y, optimize=True).astype(np.float64)
            out[rows] = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    return out


def _check_finite(name: str, a: np.ndarray) -> None:
    if not np.all(np.isfinite(a)):
        raise NumericalError(f"{name} contain NaN or inf; lower the learning problem's scale")


def als(
    user_csr: sp.csr_matrix,
    item_csr: sp.csr_matrix,
    rank: int,
    reg: float,
    iterations: int,
    seed: int,
    return_users: bool = False,
    reg_exponent: float = 0.0,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Alternating least squares on the residual matrix.

    ``user_csr`` is users x movies, ``item_csr`` the same ratings movies x users. ``Q`` starts
    at ``N(0, 0.1^2)`` (seeded); each iteration sets ``P = argmin_P J(P, Q)`` then
    ``Q = argmin_Q J(P, Q)`` (both closed form, see :func:`ridge_solve_rows`), so ``J`` never
    increases. Returns ``(P, Q)``; ``P`` is re-solved against the final ``Q`` only if
    ``return_users`` (the served model needs only ``Q``: users are folded in).
    """
    rng = np.random.default_rng(seed)
    n_users, n_items = user_csr.shape
    q = rng.normal(0.0, 0.1, size=(n_items, rank))
    # Movies nobody rated keep exactly zero factors (their prediction is the movie mean).
    q[np.diff(item_csr.indptr) == 0] = 0.0
    p = None
    for _ in range(iterations):
        p = ridge_solve_rows(user_csr.indptr, user_csr.indices, user_csr.data, q, reg, reg_exponent)
        q = ridge_solve_rows(item_csr.indptr, item_csr.indices, item_csr.data, p, reg, reg_exponent)
    if return_users or p is None:
        p = ridge_solve_rows(user_csr.indptr, user_csr.indices, user_csr.data, q, reg, reg_exponent)
    _check_finite("movie factors", q)
    _check_finite("user factors", p)
    return (p if return_users else None), q


def implicit_als(
    user_csr: sp.csr_matrix,
    item_csr: sp.csr_matrix,
    rank: int,
    alpha: float,
    reg: float,
    iterations: int,
    seed: int,
) -> np.ndarray:
    """Implicit-feedback ALS on *who rated what* (Hu, Koren & Volinsky 2008); returns ``Y``.

    Preference ``p_ui = 1`` where ``u`` rated ``i`` (whatever the rating), else 0; confidence
    ``c_ui = 1 + alpha p_ui``; minimise over every (user, movie) pair, rated or not,

        sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + reg (|X|_F^2 + |Y|_F^2).

    The half-step for a user with rated set ``J`` is closed form,

        x_u = (Y^T Y + alpha Y_J^T Y_J + reg I)^{-1} (1 + alpha) Y_J^T 1
            = (Y_J^T Y_J + P)^{-1} Y_J^T v,   P = (Y^T Y + reg I) / alpha,  v = (1 + alpha) / alpha,

    which is :func:`ridge_solve_rows` with ``prior=P`` (the unrated movies only enter through
    the rank x rank ``Y^T Y``); the movie half-step is the same with users and movies swapped.
    Only the sparsity patterns of ``user_csr`` / ``item_csr`` are used. ``Y`` starts at
    ``N(0, 0.1^2)`` (seeded); movies nobody rated keep zero rows.
    """
    if alpha <= 0:
        raise ValueError("alpha must be > 0")
    rng = np.random.default_rng(seed)
    n_items = item_csr.shape[0]
    y = rng.normal(0.0, 0.1, size=(n_items, rank))
    y[np.diff(item_csr.indptr) == 0] = 0.0
    v = (1.0 + alpha) / alpha
    uvals = np.full(user_csr.indices.size, v)
    ivals = np.full(item_csr.indices.size, v)
    eye = reg * np.eye(rank)
    for _ in range(iterations):
        x = ridge_solve_rows(
            user_csr.indptr, user_csr.indices, uvals, y, 0.0, prior=(y.T @ y + eye) / alpha
        )
        y = ridge_solve_rows(
            item_csr.indptr, item_csr.indices, ivals, x, 0.0, prior=(x.T @ x + eye) / alpha
        )
    _check_finite("implicit movie factors", y)
    return y


def asymmetric_factors(
    resid: sp.csr_matrix, q: np.ndarray, reg: float, iterations: int
) -> np.ndarray:
    """The implicit half of asymmetric SVD (Paterek's NSVD, Koren 2008) with ``Q`` fixed.

    A user is represented by the movies they rated, ``s_u = |N(u)|^{-1/2} sum_{j in N(u)} y_j``,
    and ``Y`` (movies x rank) minimises

        sum_{(u,i) rated} (e_ui - q_i . s_u)^2 + reg |Y|_F^2

    with ``e_ui`` the bias residuals in ``resid`` (users x movies). The prediction is linear in
    ``Y``, so this is one ridge least-squares problem, solved by ``iterations`` LSQR steps
    (``damp = sqrt(reg)``; ~25 reach convergence on ML-small) with the operator applied through
    sparse products only: ``Y -> S = D^{-1/2} B Y -> (q_i . s_u)`` over the rated entries and
    back, ``B`` the rated-pattern matrix. Movies nobody rated get zero rows. Deterministic.
    """
    n_users, n_items = resid.shape
    rank = q.shape[1]
    if rank == 0 or resid.nnz == 0 or iterations == 0:
        return np.zeros((n_items, rank))
    indptr, cols = resid.indptr, resid.indices
    counts = np.diff(indptr)
    urow = np.repeat(np.arange(n_users), counts)
    norm = 1.0 / np.sqrt(np.maximum(counts, 1))
    bn = sp.csr_matrix((norm[urow], cols, indptr), shape=resid.shape)
    bn_t = bn.T.tocsr()
    qc = q[cols]

    def forward(v: np.ndarray) -> np.ndarray:
        s = bn @ v.reshape(n_items, rank)
        return np.einsum("ij,ij->i", s[urow], qc)

    def backward(r: np.ndarray) -> np.ndarray:
        g = sp.csr_matrix((r, cols, indptr), shape=resid.shape) @ q
        return (bn_t @ g).ravel()

    op = scipy.sparse.linalg.LinearOperator(
        (resid.nnz, n_items * rank), matvec=forward, rmatvec=backward, dtype=np.float64
    )
    sol = scipy.sparse.linalg.lsqr(
        op, resid.data, damp=float(np.sqrt(reg)), iter_lim=iterations, atol=0.0, btol=0.0
    )[0]
    y = sol.reshape(n_items, rank)
    _check_finite("asymmetric movie factors", y)
    return y


class CGObjective:
    """The tutorial's cost ``J`` and its analytic gradient over the flattened ``[Q; P]``.

    With ``E`` the sparse error matrix (``E_iu = q_i . p_u - y_ui`` on rated entries only):

        dJ/dQ = E P + reg Q,    dJ/dP = E^T Q + reg P.
    """

    def __init__(self, item_csr: sp.csr_matrix, rank: int, reg: float) -> None:
        coo = item_csr.tocoo()
        self.rows = coo.row.astype(np.int64)
        self.cols = coo.col.astype(np.int64)
        self.y = coo.data.astype(np.float64)
        self.n_items, self.n_users = item_csr.shape
        self.rank = rank
        self.reg = reg
        # One CSR with a fixed sparsity pattern; only its data changes per evaluation.
        self.err = sp.csr_matrix(
            (np.zeros_like(self.y), (self.rows, self.cols)), shape=item_csr.shape
        )
        self.err.sort_indices()
        # Map each COO entry to its slot in the CSR data (duplicates were rejected earlier).
        key_csr = np.repeat(np.arange(self.n_items), np.diff(self.err.indptr)) * self.n_users
        key_csr = key_csr + self.err.indices
        key_coo = self.rows * self.n_users + self.cols
        self.slot = np.searchsorted(key_csr, key_coo)

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = self.rank
        q = theta[: self.n_items * k].reshape(self.n_items, k)
        p = theta[self.n_items * k :].reshape(self.n_users, k)
        return q, p

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        q, p = self.unpack(theta)
        e = np.einsum("ij,ij->i", q[self.rows], p[self.cols]) - self.y
        cost = 0.5 * float(e @ e) + 0.5 * self.reg * float(theta @ theta)
        self.err.data[self.slot] = e
        gq = self.err @ p + self.reg * q
        gp = self.err.T @ q + self.reg * p
        return cost, np.concatenate([gq.ravel(), gp.ravel()])


def conjugate_gradient(
    item_csr: sp.csr_matrix,
    rank: int,
    reg: float,
    iterations: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``J`` by ``scipy.optimize.minimize(method="CG")`` (Polak-Ribiere nonlinear CG,
    the tutorial's ``fmincg``) for ``iterations`` iterations from a seeded small random start.

    Returns ``(P, Q)``.
    """
    rng = np.random.default_rng(seed)
    obj = CGObjective(item_csr, rank, reg)
    theta0 = rng.normal(0.0, 0.1, size=(obj.n_items + obj.n_users) * rank)
    q0, _ = obj.unpack(theta0)
    q0[np.diff(item_csr.indptr) == 0] = 0.0
    res = scipy.optimize.minimize(
        obj, theta0, jac=True, method="CG", options={"maxiter": iterations, "gtol": 1e-6}
    )
    q, p = obj.unpack(res.x)
    _check_finite("movie factors", q)
    _check_finite("user factors", p)
    return p.copy(), q.copy()
