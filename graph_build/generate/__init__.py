"""The built-in generator: synthetic e-commerce tables with planted fraud.

It writes the canonical tables (``schema.TABLES``) plus the ground truth (``truth/``) and is
hard in the right way (DESIGN §5): every fraudster's own attributes (country, e-mail domain,
order amounts, number of orders, mostly account age) come from the legitimate distributions, so
no single column separates them; the signal is relational and temporal — devices, IPs,
addresses and cards shared inside a ring, synchronized bursts, fresh accounts ordering fast.
Legitimate look-alikes (households, offices and mobile-carrier NAT sharing IPs, families
sharing a device or a card, bursty shoppers, new users ordering at once) make sharing alone no
proof of guilt.

Two modes. The default (demo) shows its rings in a minute. ``hard=True`` is the benchmark:
ring members are real accounts with legit histories, tied into the legit graph; devices and
IPs rotate and are shared with legit users; rings chain through cards and addresses; activity
spreads over days at the legit time of day; half the fraud is lone; labels arrive late and
noisy; a tactic appears only at the end (drift).

Modules, one job each: ``constants`` (units and legit distributions), ``common`` (helpers),
``population`` (legit accounts, households, offices, carriers, sessions), ``rings`` (default
rings), ``hard`` / ``hard_rings`` / ``lone`` / ``lookalikes`` (the hard mode), ``activity``
(sessions to events, orders, lines), ``entities`` (device / address / payment tables),
``labels`` and ``truth`` (dated labels, ``truth/``), ``writer`` (CSV / Parquet), ``pipeline``
(:func:`generate`), ``cli``.

Everything is vectorised over users, sessions, events and orders; only the (few) rings are
looped over.
"""

from graph_build.generate.cli import add_generate_arguments, run_generate
from graph_build.generate.constants import (
    FRAUD_TYPES,
    HARD_RING_TYPES,
    LONE_TYPES,
    RING_TYPES,
)
from graph_build.generate.pipeline import GeneratedSummary, check_args, generate

__all__ = [
    "FRAUD_TYPES",
    "HARD_RING_TYPES",
    "LONE_TYPES",
    "RING_TYPES",
    "GeneratedSummary",
    "add_generate_arguments",
    "check_args",
    "generate",
    "run_generate",
]
