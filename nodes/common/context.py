"""What every method's context has: the models of both roles, sampling, and execution limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from langgraph.runtime import Runtime

from nodes.common.usage import Role
from toolmaker.models import ModelRequest


@dataclass(kw_only=True)
class ModelContext:
    """Per-run settings shared by all graphs. Empty model fields fall back to the process settings."""

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
    execution_timeout_s: float = field(
        default=5.0,
        metadata={"description": "Wall-clock limit of one execution of generated code."},
    )
    temperature: float = field(default=0.0, metadata={"description": "Sampling temperature (0 = greedy)."})
    seed: int = field(default=0, metadata={"description": "Sampling seed, for repeatable runs."})
    max_tokens: int = field(default=1024, metadata={"description": "Most tokens one model reply may have."})
    approve_tools: bool = field(
        default=False,
        metadata={
            "description": "Stop before a new tool is registered until a person approves, rejects or "
            "edits it (an interrupt: needs a checkpointer; Studio shows it)."
        },
    )

    def prompt_variant(self, node: str) -> str:
        """The variant (name or ``.md`` path) chosen for ``node``'s prompt (its ``NODE_prompt`` field)."""
        return str(getattr(self, f"{node}_prompt"))

    @property
    def acting_role(self) -> Role:
        """The role a node asks when it names none (the maker, unless a method says otherwise)."""
        return "maker"

    def model_request(self, role: Role | None = None) -> ModelRequest:
        """Describe the chat model of ``role`` (default :attr:`acting_role`) with this context's sampling."""
        role = role or self.acting_role
        return ModelRequest(
            role=role,
            model=self.maker_model if role == "maker" else self.user_model,
            base_url=self.maker_base_url if role == "maker" else self.user_base_url,
            temperature=self.temperature,
            seed=self.seed,
            max_tokens=self.max_tokens,
        )


AnyContext = TypeVar("AnyContext", bound=ModelContext)


def context_of(runtime: Runtime[AnyContext], schema: type[AnyContext]) -> AnyContext:
    """The run's context, or the schema's defaults when the graph was invoked without one."""
    return runtime.context if runtime.context is not None else schema()
