"""Score a model on held-out ratings the way the bot serves people: fold each user in.

    rmse = held_out_rmse(model, fit, test)   # 1-10 scale; / 2 for stars

A user's profile comes from their ratings in ``fit`` (``history_of``), never stored in the
model; users with no history in ``fit`` get the no-ratings profile.
"""

from __future__ import annotations

import numpy as np

from recommender import Model, Ratings


def history_of(r: Ratings, user: int) -> dict[int, float]:
    """Movie id -> score of everything `user` rated in `r`."""
    sel = r.user_ids == user
    return dict(zip(r.movie_ids[sel].tolist(), r.values[sel].tolist(), strict=True))


def held_out_rmse(model: Model, fit: Ratings, test: Ratings) -> float:
    """RMSE (1-10 scale) over ``test``, every user folded in from their ``fit`` history."""
    order = np.argsort(fit.user_ids, kind="stable")
    users, starts = np.unique(fit.user_ids[order], return_index=True)
    bounds = np.append(starts, order.size)
    torder = np.argsort(test.user_ids, kind="stable")
    tusers, tstarts = np.unique(test.user_ids[torder], return_index=True)
    tbounds = np.append(tstarts, torder.size)
    sq = 0.0
    for k, u in enumerate(tusers):
        sel = torder[tbounds[k] : tbounds[k + 1]]
        j = np.searchsorted(users, u)
        hist = {}
        if j < users.size and users[j] == u:
            h = order[bounds[j] : bounds[j + 1]]
            hist = dict(zip(fit.movie_ids[h].tolist(), fit.values[h].tolist(), strict=True))
        err = model.predict(model.fold_in(hist), test.movie_ids[sel]) - test.values[sel]
        sq += float(err @ err)
    return float(np.sqrt(sq / len(test)))
