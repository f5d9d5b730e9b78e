"""The hard mode's numbers, in one place (issue 10 defines the benchmark by them).

Shares are enforced by quota (not drawn independently per ring), so a small graph with six
rings has the intended mix as well as a large one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph_build.generate.constants import ATO, BUST, CARD, FARM, PROMO, PROXY


@dataclass(frozen=True)
class HardProfile:
    """Numbers of the hard mode.

    Args:
        ring_member_share: range of the share of users who are ring members.
        lone_per_ring_member: lone fraud users per ring member (>= 1: half the fraud is lone).
        lone_mix: shares of lone takeovers, stolen cards and friendly fraud.
        type_weights: ring types other than the drift type, by weight.
        drift_share: share of rings of the drift type (at least one).
        drift_window: the drift type starts only in this last share of the window.
        active_end_share: share of rings still active at the end of the window.
        history_days: days of legit activity a seasoned member has before its ring starts.
        seasoned_share: share of non-promo rings late enough for seasoned members.
        span_days: per ring type, the (min, max) days its activity spreads over.
        waves: (min, max) waves of synchronized orders per ring.
        max_member_waves: waves a member orders in, at most.
        max_member_orders: legit orders a seasoned member may have (so its total stays legit).
        wave_jitter_h: standard deviation (hours) of members' orders around a wave.
        max_chain_size: rings up to this size chain through cards / addresses (diameter <= 6).
        mixed_legit_ip: share of sessions of device/IP-linked rings on IPs legit users use.
        max_device_users: accounts per ring device.
        fresh_device: share of a chain member's ring sessions on its fresh ring device.
        premium_bust_share: share of the drift rings buying premium (the rest: legit mix).
    """

    ring_member_share: tuple[float, float] = (0.0028, 0.0036)
    lone_per_ring_member: tuple[float, float] = (1.05, 1.25)
    lone_mix: tuple[float, float, float] = (0.4, 0.4, 0.2)
    type_weights: dict[int, float] = field(default_factory=lambda: {
        ATO: 0.25, PROMO: 0.2, FARM: 0.2, PROXY: 0.2, CARD: 0.15})
    drift_share: float = 0.12
    drift_window: float = 0.15
    active_end_share: float = 0.25
    history_days: float = 30.0
    seasoned_share: float = 0.85
    span_days: dict[int, tuple[float, float]] = field(default_factory=lambda: {
        FARM: (4, 14), PROXY: (3, 12), PROMO: (2, 7), CARD: (2, 5), ATO: (2, 8),
        BUST: (2, 6)})
    waves: tuple[int, int] = (2, 6)
    max_member_waves: int = 3
    max_member_orders: int = 4
    wave_jitter_h: float = 1.5
    max_chain_size: int = 25
    mixed_legit_ip: float = 0.7
    max_device_users: int = 3
    fresh_device: float = 0.6
    premium_bust_share: float = 0.5


HARD = HardProfile()
CHAIN_TYPES = (PROMO, CARD, ATO, BUST)  # ring types linked only through cards / addresses
