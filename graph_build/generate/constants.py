"""Units, limits and the legitimate distributions every generated account draws from.

Fraud accounts draw their own attributes from these same distributions (camouflage), so the
constants here are what "looks legitimate" means throughout the generator.
"""

from __future__ import annotations

import numpy as np

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
WINDOW_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: fixed so output depends on args only
MIN_USERS, MAX_USERS, MIN_DAYS, MAX_DAYS = 1_000, 1_000_000, 7, 3_650
HARD_MIN_DAYS = 60  # hard mode needs room for 30 days of history before the rings strike

# Ring types: the five of the default mode, then the hard mode's drift tactic (it appears only
# in the last 15% of the window, after a model's validation time).
RING_TYPES = ("device_farm", "proxy_ring", "promo_abuse", "card_testing", "account_takeover")
HARD_RING_TYPES = RING_TYPES + ("bust_out",)
FARM, PROXY, PROMO, CARD, ATO, BUST = range(6)
# Fraud outside any ring (hard mode): codes follow the ring types in ``FRAUD_TYPES``.
LONE_TYPES = ("lone_takeover", "stolen_card", "friendly_fraud")
FRAUD_TYPES = HARD_RING_TYPES + LONE_TYPES
LONE_ATO, STOLEN, FRIENDLY = range(len(HARD_RING_TYPES), len(FRAUD_TYPES))

# Session kinds (which events a session emits) and order tiers (which products it buys).
K_NORMAL, K_SIGNUP, K_TAKEOVER, K_TEST = range(4)
T_NORMAL, T_CHEAP, T_PREMIUM, T_TEST = range(4)
TIER_NAMES = ("legit", "cheap", "premium", "test")

COUNTRIES = ("US", "GB", "DE", "FR", "CA", "ES", "IT", "NL", "BR", "IN", "AU", "PL", "MX")
COUNTRY_P = (0.36, 0.10, 0.09, 0.07, 0.06, 0.05, 0.05, 0.04, 0.05, 0.05, 0.04, 0.02, 0.02)
_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "gmx.de",
         "aol.com", "proton.me", "web.de", "orange.fr", "libero.it", "yandex.com")
_MAIL_P = (0.40, 0.09, 0.08, 0.07, 0.07, 0.03, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02)
# A long tail of company / university domains holds the remaining mass.
EMAIL_DOMAINS = _MAIL + tuple(f"{w}.{tld}" for w in ("acme", "globex", "initech", "umbrella",
                              "stark", "wayne", "uni-north", "uni-south", "hooli", "vandelay")
                              for tld in ("com", "edu", "io"))
EMAIL_P = _MAIL_P + (0.14 / 30,) * 30
OS, OS_P = ("android", "ios", "windows", "macos", "linux"), (0.40, 0.30, 0.18, 0.08, 0.04)
BROWSERS, BROWSER_P = ("chrome", "safari", "edge", "firefox", "samsung"), (.55, .25, .08, .07, .05)
PAY_KINDS, PAY_KIND_P = ("card", "wallet", "bank"), (0.75, 0.18, 0.07)
CATEGORIES = ("electronics", "fashion", "home", "beauty", "books", "toys", "sports", "grocery",
              "garden", "automotive", "health", "jewelry", "pets", "office", "music")
CAT_LOG_PRICE = (4.6, 3.5, 3.6, 3.0, 2.7, 3.1, 3.6, 2.2, 3.4, 3.7, 2.9, 4.2, 3.0, 2.8, 3.2)
ORDER_COUNT_P = np.array([.30, .22, .14, .10, .07, .05, .04, .03, .02, .015, .015])
STATUSES, STATUS_P = ("completed", "cancelled", "refunded"), (0.90, 0.06, 0.04)
EVENT_TYPES = ("login", "session", "add_to_cart", "checkout", "password_reset", "profile_update")
# ``fraud`` is the session's fraud type (an index of ``FRAUD_TYPES``) or -1 for legit activity.
SESSION_FIELDS = ("user", "t", "device", "ip", "order", "addr", "pay", "tier", "ring", "kind",
                  "fraud")
FIRST_OCTETS = np.array([o for o in range(1, 224) if o not in (10, 100, 127, 169, 172, 192)])
