"""reason: the chain-of-thought baseline answers in words, without code."""

from __future__ import annotations

import re

from langgraph.runtime import Runtime

from nodes.asking import ask, problem_values
from nodes.context import CreatorContext
from nodes.state import CreatorState
from toolmaker.models import ChatModelFactory

_ANSWER_LINE = re.compile(r"answer\s*(?:is)?\s*[:=]\s*(.+)", re.I)


def final_answer(text: str) -> str | None:
    """The value on the reply's last ``Answer: ...`` line, without a trailing period."""
    matches = _ANSWER_LINE.findall(text)
    return matches[-1].strip().rstrip(".").strip("*$ ") if matches else None


def reason(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask for step-by-step reasoning and take its final ``Answer:`` line."""
    text, tokens = ask(models, runtime.context, "reason", "default", **problem_values(state))
    answer = final_answer(text)
    return {"tokens": tokens, "answer": answer, "status": "solved" if answer else "failed", "rounds": 0}
