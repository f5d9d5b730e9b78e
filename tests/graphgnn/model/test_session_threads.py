"""A scoring session's torch thread count: from FRAUDRING_SCORE_THREADS, restored after."""

from __future__ import annotations

import torch

from graphgnn.model.session import score_threads, torch_threads


def test_score_threads_reads_the_environment(monkeypatch):
    monkeypatch.delenv("FRAUDRING_SCORE_THREADS", raising=False)
    assert score_threads() == 1
    monkeypatch.setenv("FRAUDRING_SCORE_THREADS", "3")
    assert score_threads() == 3
    for bad in ("0", "-2", "many"):
        monkeypatch.setenv("FRAUDRING_SCORE_THREADS", bad)
        assert score_threads() == 1


def test_torch_threads_restores_the_count_even_on_error():
    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    with torch_threads(other):
        assert torch.get_num_threads() == other
    assert torch.get_num_threads() == before
    try:
        with torch_threads(other):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert torch.get_num_threads() == before
