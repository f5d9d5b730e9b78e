"""What the app holds while it runs: the open store, the scorer (loaded once) and metrics."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from graph_build.stores.base import GraphStore
from graphgnn.api.metrics import ServeMetrics
from graphgnn.api.settings import ServeSettings

log = logging.getLogger("fraudring.serve")


@dataclass
class ServeState:
    """Shared by every request (``app.state.serve``).

    Attributes:
        settings: the configuration.
        store: the open graph store (``None`` until opened).
        scorer: the loaded :class:`graphgnn.model.checkpoint.Scorer` (or any object with
            ``score(frames, as_of)``, ``model_version`` and ``system``).
        online: the inductive scorer built on both (see :mod:`graphgnn.api.online`).
        owns_store: close the store on shutdown (False when the caller passed it in).
    """

    settings: ServeSettings
    store: GraphStore | None = None
    scorer: Any = None
    online: Any = None
    metrics: ServeMetrics = field(default_factory=ServeMetrics)
    owns_store: bool = True
    started_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self) -> None:
        """Open the store and load the model (once, at startup); errors are FraudringErrors."""
        if self.store is None:
            from graph_build.stores import open_store

            self.store = open_store(self.settings.store, self.settings.store_home)
            self.owns_store = True
        if self.scorer is None:
            from graph_build.errors import ConfigError

            if self.settings.ckpt is None:
                raise ConfigError("no checkpoint to score with",
                                  hint="pass --ckpt FILE (train one: fraudring train fit "
                                       "--config configs/demo.yaml)")
            from graphgnn.model.checkpoint import load_scorer

            self.scorer = load_scorer(self.settings.ckpt)
        if self.online is None:
            from graphgnn.api.online import OnlineScorer

            self.online = OnlineScorer(self.store, self.scorer, self.settings, self.metrics)

    def close(self) -> None:
        if self.owns_store and self.store is not None:
            try:
                self.store.close()
            except Exception as e:  # noqa: BLE001 - shutting down: say it, do not fail
                log.warning("closing the store: %s", e)
