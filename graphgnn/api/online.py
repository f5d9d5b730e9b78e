"""Inductive scoring of one request from its neighbourhood in the live graph (in progress)."""

from __future__ import annotations

from typing import Any


class OnlineScorer:
    """Scores orders and users from their k-hop neighbourhood (being built: issue 12)."""

    def __init__(self, store: Any, scorer: Any, settings: Any) -> None:
        self.store, self.scorer, self.settings = store, scorer, settings
        self.model_version = str(getattr(scorer, "model_version", "unknown"))

    def refresh_distribution(self) -> dict:
        from graphgnn.scores.runs import last_succeeded_run

        return last_succeeded_run(self.store) or {}

    def score_order(self, body):
        raise NotImplementedError("online order scoring lands in the next commit")

    def score_user(self, body):
        raise NotImplementedError("online user scoring lands in the next commit")
