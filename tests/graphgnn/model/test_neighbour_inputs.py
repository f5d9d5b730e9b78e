"""The hybrid's neighbour aggregates: per relation into a node, mean then max of the sources."""

from __future__ import annotations

import torch

from graphgnn.model.neighbour_inputs import neighbour_aggregates, relations_of


def test_mean_and_max_per_relation_with_fixed_columns():
    x = {"User": torch.tensor([[1.0, 10.0], [3.0, -2.0]]), "Order": torch.zeros(3, 1),
         "Device": torch.tensor([[5.0]])}
    edges = {("User", "PLACED", "Order"): torch.tensor([[0, 1, 1], [0, 0, 2]]),
             ("Device", "USED_IN", "Order"): torch.tensor([[0], [1]]),
             ("Order", "REV", "User"): torch.tensor([[0], [0]])}
    rel = relations_of(x, edges, "Order")
    assert rel == [["Device", "USED_IN", "Order", 1], ["User", "PLACED", "Order", 2]]
    out = neighbour_aggregates(x, edges, "Order", rel)
    # Device: mean, max | User: mean (2), max (2)
    assert out.tolist() == [[0, 0, 2.0, 4.0, 3.0, 10.0],
                            [5.0, 5.0, 0, 0, 0, 0],
                            [0, 0, 3.0, -2.0, 3.0, -2.0]]
    # a graph without some relation (a serving tree) keeps every column in its place
    missing = neighbour_aggregates(x, {("User", "PLACED", "Order"): edges[("User", "PLACED",
                                                                             "Order")]},
                                   "Order", rel)
    assert missing.shape == out.shape and missing[:, :2].abs().sum() == 0
    assert torch.equal(missing[:, 2:], out[:, 2:])
