"""What the models cost: one ledger row per model call, summed per role and per node."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from typing_extensions import TypedDict

Role = Literal["maker", "user"]


class TokenUsage(TypedDict):
    """Tokens and calls spent by one model role."""

    input: int
    output: int
    calls: int


class ModelCall(TypedDict):
    """One call of a chat model, as the endpoint reported it."""

    node: str
    """The node that asked (``create``, ``propose``, ``dispatch``, ...)."""
    role: Role
    model: str
    """The model's name as the endpoint knows it."""
    input: int
    output: int
    seconds: float
    """Wall-clock time of the call, the model's time for local endpoints."""


def add_usage(
    left: dict[str, TokenUsage] | None, right: dict[str, TokenUsage] | None
) -> dict[str, TokenUsage]:
    """Reducer: sum token usage per role."""
    merged = dict(left or {})
    for role, usage in (right or {}).items():
        before = merged.get(role, TokenUsage(input=0, output=0, calls=0))
        merged[role] = TokenUsage(
            input=before["input"] + usage["input"],
            output=before["output"] + usage["output"],
            calls=before["calls"] + usage["calls"],
        )
    return merged


def usage_by(calls: Iterable[ModelCall], key: Literal["role", "node", "model"]) -> dict[str, TokenUsage]:
    """Tokens and calls summed per role, per node or per model."""
    totals: dict[str, TokenUsage] = {}
    for call in calls:
        totals = add_usage(
            totals, {call[key]: TokenUsage(input=call["input"], output=call["output"], calls=1)}
        )
    return totals


def usage_of(calls: Iterable[ModelCall], role: Role) -> TokenUsage:
    """Tokens and calls of one role, zero when it made no call."""
    return usage_by(calls, "role").get(role, TokenUsage(input=0, output=0, calls=0))


def seconds_by(calls: Iterable[ModelCall], key: Literal["role", "node", "model"]) -> dict[str, float]:
    """Model seconds summed per role, per node or per model."""
    totals: dict[str, float] = {}
    for call in calls:
        totals[call[key]] = round(totals.get(call[key], 0.0) + call["seconds"], 3)
    return totals


def total_tokens(usage: Mapping[str, TokenUsage]) -> int:
    """Input and output tokens over every role (or node) of a usage summary."""
    return sum(each["input"] + each["output"] for each in usage.values())


def total_seconds(calls: Iterable[ModelCall]) -> float:
    """Model seconds of the ledger rows ``calls``."""
    return round(sum(call["seconds"] for call in calls), 3)


def usage_update(calls: list[ModelCall]) -> dict[str, object]:
    """The state update that records ``calls``: the ledger rows and the per-role totals."""
    return {"model_calls": calls, "tokens": usage_by(calls, "role")}
