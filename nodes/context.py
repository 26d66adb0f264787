"""Run-time configuration of the CREATOR graph (LangGraph ``context_schema``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from toolmaker.models import ModelRequest

PromptNode = Literal["create", "decide", "rectify", "reason", "program", "fix_program", "create_and_decide"]
"""The nodes that ask a model, each with a folder of prompt variants under ``prompts/``."""


@dataclass(kw_only=True)
class CreatorContext:
    """Per-run settings. Empty model fields fall back to the process settings."""

    maker_model: str = field(
        default="",
        metadata={"description": "Model of the maker role; empty = settings (embedded 1.5B)."},
    )
    maker_base_url: str = field(
        default="",
        metadata={"description": "OpenAI-compatible base URL of the maker; empty = settings."},
    )
    user_model: str = field(
        default="",
        metadata={"description": "Model of the user role; empty = settings (embedded 0.5B)."},
    )
    user_base_url: str = field(
        default="",
        metadata={"description": "OpenAI-compatible base URL of the user; empty = settings."},
    )
    creator_role: Literal["maker", "user"] = field(
        default="maker",
        metadata={"description": "Which role plays create, decide and rectify."},
    )
    max_rectify_rounds: int = field(
        default=3,
        metadata={"description": "Rectification rounds before the run is declared failed."},
    )
    execution_timeout_s: float = field(
        default=5.0,
        metadata={"description": "Wall-clock limit of one execution of tool + call."},
    )
    self_checks: bool = field(
        default=False,
        metadata={
            "description": "Ask for and run the model's own assert checks of the tool before the call "
            "(off by default: on the embedded 1.5B they cost more rounds than they saved)."
        },
    )
    vote_samples: int = field(
        default=4,
        metadata={"description": "Programs the majority-vote baseline samples (match CREATOR's calls)."},
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
        metadata={"description": "Prompt variant of the create node (name or file path)."},
    )
    decide_prompt: str = field(
        default="default",
        metadata={"description": "Prompt variant of the decide node (name or file path)."},
    )
    rectify_prompt: str = field(
        default="default",
        metadata={"description": "Prompt variant of the rectify node (name or file path)."},
    )
    reason_prompt: str = field(
        default="default",
        metadata={"description": "Prompt variant of the chain-of-thought baseline (name or file path)."},
    )
    program_prompt: str = field(
        default="default",
        metadata={"description": "Prompt variant of the program-of-thought baseline (name or file path)."},
    )
    fix_program_prompt: str = field(
        default="default",
        metadata={"description": "Prompt variant of program-of-thought's repair step (name or file path)."},
    )
    create_and_decide_prompt: str = field(
        default="default",
        metadata={"description": "Prompt variant of the entangled baseline (name or file path)."},
    )
    temperature: float = field(default=0.0, metadata={"description": "Sampling temperature (0 = greedy)."})
    seed: int = field(default=0, metadata={"description": "Sampling seed, for repeatable runs."})
    max_tokens: int = field(default=1024, metadata={"description": "Most tokens one model reply may have."})

    def prompt_variant(self, node: PromptNode) -> str:
        """The variant (name or ``.md`` path) chosen for ``node``'s prompt."""
        return str(getattr(self, f"{node}_prompt"))

    def non_default_prompts(self) -> dict[str, str]:
        """The nodes whose prompt variant is not ``default``, with their variants."""
        return {
            node: self.prompt_variant(node)
            for node in get_args(PromptNode)
            if self.prompt_variant(node) != "default"
        }

    def model_request(self, role: Literal["maker", "user"] | None = None) -> ModelRequest:
        """Describe the chat model a node needs (the CREATOR role unless ``role`` is given)."""
        role = role or self.creator_role
        return ModelRequest(
            role=role,
            model=self.maker_model if role == "maker" else self.user_model,
            base_url=self.maker_base_url if role == "maker" else self.user_base_url,
            temperature=self.temperature,
            seed=self.seed,
            max_tokens=self.max_tokens,
        )
