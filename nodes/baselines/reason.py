"""reason: the chain-of-thought baseline answers in words, without code."""

from __future__ import annotations

import re

from langgraph.runtime import Runtime

from nodes.common.asking import ask, problem_values
from nodes.common.context import context_of
from nodes.common.grading import choice_letter
from nodes.common.usage import usage_update
from nodes.creator.context import CreatorContext
from nodes.creator.state import CreatorState
from toolmaker.models import ChatModelFactory

_ANSWER_LINE = re.compile(r"answer\s*(?:is)?\s*[:=]\s*(.+)", re.I)
_ANSWER_IS = re.compile(r"answer\s+is\s+(.+?)(?:\.\s|\.?$)", re.I | re.M)
_BOXED = "\\boxed{"
_MATH_DELIMITERS = re.compile(r"^\\[(\[]|\\[)\]]$")


def _last_boxed(text: str) -> str | None:
    r"""The content of the last ``\boxed{...}``, nested braces included."""
    start = text.rfind(_BOXED)
    if start < 0:
        return None
    depth, begin = 1, start + len(_BOXED)
    for index in range(begin, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[begin:index]
    return None


def final_answer(text: str) -> str | None:
    r"""The reply's final answer, without LaTeX delimiters or a trailing period.

    Its last ``Answer: ...`` line, else its last ``\boxed{}``, else its last "the answer
    is ...": instruction-tuned models box answers even when asked for an answer line.
    """
    lines = _ANSWER_LINE.findall(text)
    candidate = lines[-1] if lines else _last_boxed(text)
    if candidate is None:
        sentences = _ANSWER_IS.findall(text)
        candidate = sentences[-1] if sentences else None
    if candidate is None:
        return None
    boxed = _last_boxed(candidate)
    value = (boxed if boxed is not None else candidate).strip().rstrip(".").strip("*$ ")
    return _MATH_DELIMITERS.sub("", value).strip() or None


def reason(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask for step-by-step reasoning and take its final ``Answer:`` line."""
    text, call_cost = ask(models, context_of(runtime, CreatorContext), "reason", **problem_values(state))
    answer = choice_letter(final_answer(text), state["problem"])
    return {
        **usage_update([call_cost]),
        "answer": answer,
        "status": "solved" if answer else "failed",
        "rounds": 0,
    }
