"""The CREATOR nodes, one module each: create, decide, execute, rectify."""

from nodes.context import CreatorContext
from nodes.create import create
from nodes.decide import decide
from nodes.execute import execute
from nodes.rectify import rectify
from nodes.state import Attempt, CreatorInput, CreatorState

__all__ = [
    "Attempt",
    "CreatorContext",
    "CreatorInput",
    "CreatorState",
    "create",
    "decide",
    "execute",
    "rectify",
]
