"""Run-time configuration of the CREATOR graph and its baselines (LangGraph ``context_schema``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from nodes.common.context import ModelContext
from nodes.common.usage import Role
from prompts import VARIANT_FORMS, prompt_label

PromptNode = Literal[
    "create", "decide", "rectify", "generalize", "reason", "program", "fix_program", "create_and_decide"
]
"""The nodes of CREATOR and its baselines that ask a model, each with prompt variants under ``prompts/``."""


@dataclass(kw_only=True)
class CreatorContext(ModelContext):
    """Per-run settings of CREATOR and its baselines."""

    creator_role: Literal["maker", "user"] = field(
        default="maker",
        metadata={"description": "Which role plays create, decide and rectify."},
    )
    max_rectify_rounds: int = field(
        default=3,
        metadata={"description": "Rectification rounds before the run is declared failed."},
    )
    self_checks: bool = field(
        default=False,
        metadata={
            "description": "Ask for and run the model's own assert checks of the tool before the call "
            "(off by default: on the embedded 1.5B they cost more rounds than they saved)."
        },
    )
    one_value_answers: bool = field(
        default=False,
        metadata={
            "description": "The problems' answers are one value each (a number, a word): a printed empty "
            "collection, or tuple or list of several, is not accepted but sent back to rectify (the "
            "benchmarks set it for TabMWP)."
        },
    )
    vote_samples: int = field(
        default=4,
        metadata={"description": "Programs the majority-vote baseline samples (match CREATOR's calls)."},
    )
    general_tools: bool = field(
        default=True,
        metadata={
            "description": "Ask once for a general version of a tool that solved the problem but is not "
            "general (no parameters, or the problem's own numbers in its body). A tool still not "
            "general keeps its answer but is registered single-use, never offered for reuse."
        },
    )
    agree_candidates: int = field(
        default=1,
        metadata={
            "description": "Candidates (tool and call) that vote on a solved problem's answer: more are "
            "sampled, a majority answer stands, a split goes to rectify with every candidate shown. "
            "1 = off; the creator-agree method uses 3."
        },
    )
    agree_sampling: Literal["both", "tools", "calls"] = field(
        default="both",
        metadata={
            "description": "What each further candidate samples: a new tool and call (both), a new tool "
            "with a greedy call (tools), or a new call of the solved tool (calls)."
        },
    )
    agree_temperature: float = field(
        default=0.7, metadata={"description": "Sampling temperature of the further candidates."}
    )
    register_tools: bool = field(
        default=True,
        metadata={"description": "Store each tool whose run succeeded (needs a graph store)."},
    )
    reuse_tools: bool = field(
        default=False,
        metadata={"description": "Search the store for a matching tool before creating one."},
    )
    reuse_threshold: float = field(
        default=0.35,
        metadata={"description": "Least retrieval score (0-1) at which a stored tool is reused."},
    )
    create_prompt: str = field(
        default="default",
        metadata={"description": f"Prompt variant of the create node ({VARIANT_FORMS})."},
    )
    decide_prompt: str = field(
        default="default",
        metadata={"description": f"Prompt variant of the decide node ({VARIANT_FORMS})."},
    )
    rectify_prompt: str = field(
        default="default",
        metadata={"description": f"Prompt variant of the rectify node ({VARIANT_FORMS})."},
    )
    generalize_prompt: str = field(
        default="default",
        metadata={
            "description": "Prompt variant of the rectify round that asks for a general version of a tool "
            f"that is not general ({VARIANT_FORMS})."
        },
    )
    reason_prompt: str = field(
        default="default",
        metadata={"description": f"Prompt variant of the chain-of-thought baseline ({VARIANT_FORMS})."},
    )
    program_prompt: str = field(
        default="default",
        metadata={"description": f"Prompt variant of the program-of-thought baseline ({VARIANT_FORMS})."},
    )
    fix_program_prompt: str = field(
        default="default",
        metadata={"description": f"Prompt variant of program-of-thought's repair step ({VARIANT_FORMS})."},
    )
    create_and_decide_prompt: str = field(
        default="default",
        metadata={"description": f"Prompt variant of the entangled baseline ({VARIANT_FORMS})."},
    )

    def non_default_prompts(self) -> dict[str, str]:
        """The nodes whose prompt variant is not ``default``, with their variants (a text by its hash)."""
        return {
            node: prompt_label(self.prompt_variant(node))
            for node in get_args(PromptNode)
            if self.prompt_variant(node) != "default"
        }

    @property
    def acting_role(self) -> Role:
        """CREATOR's stages are played by ``creator_role``."""
        return self.creator_role
