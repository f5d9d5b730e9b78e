"""Torch side: point-in-time features, HeteroData, GraphSAGE, Lightning system, checkpoints."""
