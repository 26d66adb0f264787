"""The CREATOR nodes, one module each.

retrieve, create, decide, execute, agree, rectify, judge_generality and register.
"""

from nodes.creator.agree import agree
from nodes.creator.context import CreatorContext
from nodes.creator.create import create
from nodes.creator.decide import decide
from nodes.creator.execute import execute
from nodes.creator.generality import judge_generality
from nodes.creator.rectify import rectify
from nodes.creator.register import register
from nodes.creator.retrieve import retrieve
from nodes.creator.state import Attempt, CreatorInput, CreatorState

__all__ = [
    "Attempt",
    "CreatorContext",
    "CreatorInput",
    "CreatorState",
    "agree",
    "create",
    "decide",
    "execute",
    "judge_generality",
    "rectify",
    "register",
    "retrieve",
]
