"""The entity tables: devices, addresses and payment methods, each under a random public id."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph_build.generate.common import Arrays, Entities, pick
from graph_build.generate.constants import (
    BROWSER_P,
    BROWSERS,
    COUNTRIES,
    COUNTRY_P,
    OS,
    OS_P,
    PAY_KIND_P,
    PAY_KINDS,
)
from graph_build.generate.writer import Col, ip_strings, make_ids, pool


def entity_tables(rng: np.random.Generator, ent: Entities, pop: Arrays,
                   ses: Arrays
                   ) -> tuple[dict[str, dict[str, Col]], dict[str, pa.Array]]:
    """Devices (only those seen), addresses and payments, each listed by a random public id.

    Returns the three tables and the id strings (``device``, ``address``, ``payment``, ``ip``)
    that ``ses["device"]`` / ``ses["addr"]`` / ``ses["pay"]`` / ``ses["ip"]`` index into; the
    device and ip columns of ``ses`` are rewritten in place to do so.
    """
    used = np.unique(ses["device"])
    dev_os, dev_browser = pick(rng, OS_P, len(used)), pick(rng, BROWSER_P, len(used))
    for farm in ent.farm_devices:  # a farm runs one phone model
        pos = np.searchsorted(used, farm)
        pos = pos[used[np.minimum(pos, len(used) - 1)] == farm]
        dev_os[pos], dev_browser[pos] = dev_os[pos[0]], dev_browser[pos[0]]
    ip_values, ses["ip"] = np.unique(ses["ip"], return_inverse=True)
    ses["device"] = np.searchsorted(used, ses["device"])
    addr_owner, pay_owner = np.concatenate(ent.addr_owner), np.concatenate(ent.pay_owner)
    n_addr, n_pay = len(addr_owner), len(pay_owner)
    addr_country = np.where(rng.random(n_addr) < 0.95, pop["country"][addr_owner],
                            pick(rng, COUNTRY_P, n_addr))
    postcodes = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 100_000, n_addr)), pa.string()),
                             width=5, padding="0")
    kind = pick(rng, PAY_KIND_P, n_pay)
    bins = (np.array([4, 5, 3])[pick(rng, (0.55, 0.35, 0.10), 400)] * 100_000
            + rng.integers(0, 100_000, 400))
    pay_bin = pick(rng, 1.0 / np.arange(1, 401) ** 1.1, n_pay)  # a few issuers dominate
    for cards, ring_bins in ent.pay_bins:  # card testers work through one or two BIN ranges
        kind[cards] = 0
        pay_bin[cards] = ring_bins[rng.integers(0, len(ring_bins), len(cards))] % 400
    issuer = np.where(rng.random(n_pay) < 0.9, pop["country"][pay_owner],
                      pick(rng, COUNTRY_P, n_pay))
    # Public ids in a random order: internally fraud rings are allocated last.
    d_rows, a_rows, p_rows = (rng.permutation(k) for k in (len(used), n_addr, n_pay))
    ids = {"device": make_ids("d", np.argsort(d_rows)),
           "address": make_ids("a", np.argsort(a_rows)),
           "payment": make_ids("pm", np.argsort(p_rows)), "ip": ip_strings(ip_values)}
    countries = pool(COUNTRIES)
    return {
        "devices": {"device_id": (ids["device"], d_rows), "os": (pool(OS), dev_os[d_rows]),
                    "browser": (pool(BROWSERS), dev_browser[d_rows])},
        "addresses": {"address_id": (ids["address"], a_rows),
                      "country": (countries, addr_country[a_rows]),
                      "postcode": (postcodes, a_rows)},
        "payments": {"payment_id": (ids["payment"], p_rows),
                     "kind": (pool(PAY_KINDS), kind[p_rows]),
                     "bin": (pc.cast(pa.array(bins), pa.string()),
                             np.where(kind[p_rows] == 0, pay_bin[p_rows], -1)),
                     "issuer_country": (countries, issuer[p_rows])},
    }, ids


