"""Run-time configuration of LATM's graphs: tool maker, tool user and dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from nodes.common.context import ModelContext
from prompts import VARIANT_FORMS

LatmPromptNode = Literal["propose", "fix", "verify", "write_call", "repair_call", "dispatch"]
"""The LATM nodes that ask a model, each with prompt variants under ``prompts/``."""


@dataclass(kw_only=True)
class LatmContext(ModelContext):
    """Per-run settings of LATM. The maker makes and verifies tools; the user applies them."""

    max_fix_rounds: int = field(
        default=3,
        metadata={"description": "Fix rounds of one proposal before it is given up (the paper: 3)."},
    )
    max_proposals: int = field(
        default=3,
        metadata={"description": "Fresh proposals, sampled at proposal_temperature, before 'no tool'."},
    )
    proposal_temperature: float = field(
        default=0.7,
        metadata={"description": "Sampling temperature of the second and later proposals."},
    )
    user_repair_rounds: int = field(
        default=0,
        metadata={"description": "Repairs the tool user may make of a call that failed (the paper: 0)."},
    )
    queue_threshold: int = field(
        default=6,
        metadata={"description": "Requests of a new family that wait before the maker makes its tool."},
    )
    dispatch_candidates: int = field(
        default=3,
        metadata={"description": "Cached tools the registry proposes to the dispatcher per request."},
    )
    dispatch_min_score: float = field(
        default=0.35,
        metadata={
            "description": "Least retrieval score (0-1) at which a cached tool is offered to the dispatcher: "
            "below it the request's kind is new. On LATM's spare train/valid items, requests of a tool's "
            "own task scored 0.49-0.72 against it, other tasks' at most 0.24."
        },
    )
    dispatch_min_overlap: float = field(
        default=0.3,
        metadata={
            "description": "Least share of a request's words that a waiting (or tool-less) family's example "
            "request must have for the family to be offered. On the spare items: own task 0.40-1.0, "
            "other tasks' at most 0.23."
        },
    )
    propose_prompt: str = field(
        default="default", metadata={"description": f"Prompt variant of propose ({VARIANT_FORMS})."}
    )
    fix_prompt: str = field(
        default="default", metadata={"description": f"Prompt variant of fix ({VARIANT_FORMS})."}
    )
    verify_prompt: str = field(
        default="default", metadata={"description": f"Prompt variant of verify ({VARIANT_FORMS})."}
    )
    write_call_prompt: str = field(
        default="default",
        metadata={"description": f"Prompt variant of the tool user's call ({VARIANT_FORMS})."},
    )
    repair_call_prompt: str = field(
        default="default",
        metadata={"description": f"Prompt variant of the tool user's repair ({VARIANT_FORMS})."},
    )
    dispatch_prompt: str = field(
        default="default", metadata={"description": f"Prompt variant of dispatch ({VARIANT_FORMS})."}
    )
