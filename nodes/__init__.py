"""The CREATOR nodes, one module each: retrieve, create, decide, execute, rectify, register."""

from nodes.context import CreatorContext
from nodes.create import create
from nodes.decide import decide
from nodes.execute import execute
from nodes.rectify import rectify
from nodes.register import register
from nodes.retrieve import retrieve
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
    "register",
    "retrieve",
]
