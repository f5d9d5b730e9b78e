"""Dated, noisy labels: when the shop learns that a user or an order was fraud.

A fraud label arrives with a delay after the fraud (a chargeback, a customer complaint, an
investigation), some fraud is never reported, and a few legitimate users are reported by
mistake (a disputed order that was really delivered). The *true* class stays in ``truth/``
beside the observed label, so evaluation is clean while training sees only what was known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph_build.generate.constants import DAY

NOT_LABELLED = -1


@dataclass(frozen=True)
class LabelProfile:
    """How labels arrive.

    Args:
        delay_median_days: median delay from the fraud to its label (log-normal).
        delay_sigma: spread of the log-normal delay.
        missed_fraud: share of fraud users never labelled (their orders neither).
        false_fraud: share of legitimate users (with an order) labelled fraud by mistake.
    """

    delay_median_days: float = 7.0
    delay_sigma: float = 0.6
    missed_fraud: float = 0.0
    false_fraud: float = 0.0


@dataclass
class Labels:
    """Observed labels: ``*_at`` is epoch ms of the label, ``NOT_LABELLED`` where none came."""

    user_fraud: np.ndarray
    user_at: np.ndarray
    order_fraud: np.ndarray
    order_at: np.ndarray


def observe_labels(rng: np.random.Generator, profile: LabelProfile, user_is_fraud: np.ndarray,
                   user_first_fraud: np.ndarray, order_user: np.ndarray,
                   order_is_fraud: np.ndarray, order_t: np.ndarray) -> Labels:
    """Draw which users and orders get a fraud label, and when.

    Args:
        rng: the labels' own random source (so labels never shift the tables' draws).
        profile: delays and noise.
        user_is_fraud: ``bool [U]`` true class of each user.
        user_first_fraud: ``int64 [U]`` time of the user's first fraudulent act.
        order_user: ``int64 [O]`` the user of each order.
        order_is_fraud: ``bool [O]`` true class of each order.
        order_t: ``int64 [O]`` order times (epoch ms).

    Returns:
        Per user and per order: labelled fraud or not, and the label's time.
    """
    n_users, n_orders = len(user_is_fraud), len(order_t)
    median = np.log(profile.delay_median_days * DAY)
    order_delay = np.exp(rng.normal(median, profile.delay_sigma, n_orders)).astype(np.int64)
    user_delay = np.exp(rng.normal(median, profile.delay_sigma, n_users)).astype(np.int64)
    # Noise by quota, so small graphs get the intended shares too.
    fraud = np.flatnonzero(user_is_fraud)
    missed = rng.permutation(fraud)[: int(round(profile.missed_fraud * len(fraud)))]
    reported = user_is_fraud.copy()
    reported[missed] = False
    has_order = np.zeros(n_users, dtype=bool)
    has_order[order_user] = True
    legit = np.flatnonzero(~user_is_fraud & has_order)
    n_false = int(round(profile.false_fraud * (~user_is_fraud).sum()))
    wrong = rng.permutation(legit)[:n_false]
    # A wrongly reported user is reported for one of their orders, chosen at random.
    key = rng.random(n_orders)
    is_wrong = np.zeros(n_users, dtype=bool)
    is_wrong[wrong] = True
    cand = np.flatnonzero(is_wrong[order_user])
    cand = cand[np.lexsort((key[cand], order_user[cand]))]
    first = np.unique(order_user[cand], return_index=True)[1]
    user_fraud = reported | is_wrong
    # A fraudster is reported a while after the first fraud; an order is known fraud once its
    # own chargeback has come and its user is known (never before the user).
    user_at = np.where(reported, user_first_fraud + user_delay, NOT_LABELLED)
    order_fraud = order_is_fraud & reported[order_user]
    order_at = np.where(order_fraud, np.maximum(order_t + order_delay, user_at[order_user]),
                        NOT_LABELLED)
    # A wrongly reported customer is reported for that one order.
    wrong_order = cand[first]
    order_fraud[wrong_order] = True
    order_at[wrong_order] = order_t[wrong_order] + order_delay[wrong_order]
    user_at[order_user[wrong_order]] = order_at[wrong_order]
    return Labels(user_fraud, user_at, order_fraud, order_at)
