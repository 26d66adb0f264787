"""Graph assembly: each module wires nodes into one graph and exports a Studio ``graph``."""

from graphs.creator import build_creator_graph

__all__ = ["build_creator_graph"]
