"""LATM's nodes: the tool maker, the tool user and the dispatcher.

Tool maker: propose, try, fix, verify, wrap, register; tool user: write_call, run_call,
repair_call; dispatcher: dispatch and its answering nodes.
"""

from nodes.latm.context import LatmContext
from nodes.latm.state import (
    DispatchInput,
    DispatchState,
    Example,
    ToolMakingInput,
    ToolMakingState,
    ToolUseInput,
    ToolUseState,
)

__all__ = [
    "DispatchInput",
    "DispatchState",
    "Example",
    "LatmContext",
    "ToolMakingInput",
    "ToolMakingState",
    "ToolUseInput",
    "ToolUseState",
]
