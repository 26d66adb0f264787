"""A person's approval of a new tool before it is registered (``approve_tools``), as a LangGraph interrupt.

The register nodes call :func:`review_tool` before anything else they do, because a
resumed node runs again from its start: nothing may have been written before the
interrupt. The run stops with the tool's code, its verification and its provenance in
the interrupt, and ``Command(resume=...)`` goes on with a decision: approve, reject (with
a reason; nothing is registered) or edit (the edited code is registered instead).
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.types import interrupt
from typing_extensions import TypedDict

from tools_registry.source import ToolSourceError, ToolSpec, tool_from_source

Decision = Literal["approve", "reject", "edit"]


class Approval(TypedDict):
    """What the person decided, as the run's state and the tool's provenance record it."""

    decision: Decision
    reason: str
    """Why (required to reject, optional otherwise)."""


class ApprovalError(ValueError):
    """A resume value that is not a decision."""


RESUME_FORMS = (
    'Command(resume={"decision": "approve"}), {"decision": "reject", "reason": "..."} or '
    '{"decision": "edit", "code": "def ...", "reason": "..."}; true / false for approve / reject'
)


def read_decision(answer: Any) -> tuple[Approval, str | None]:
    """The decision in a resume value, and the edited code for ``edit``.

    Raises:
        ApprovalError: The value is none of :data:`RESUME_FORMS`.
    """
    if isinstance(answer, bool):
        answer = {"decision": "approve" if answer else "reject", "reason": "" if answer else "rejected"}
    if isinstance(answer, str):
        answer = {"decision": answer}
    if not isinstance(answer, dict) or answer.get("decision") not in ("approve", "reject", "edit"):
        raise ApprovalError(f"not a tool approval: {answer!r}; resume with {RESUME_FORMS}")
    reason = str(answer.get("reason") or "")
    code = answer.get("code")
    if answer["decision"] == "reject" and not reason:
        raise ApprovalError('a rejection needs a reason: {"decision": "reject", "reason": "..."}')
    if answer["decision"] == "edit" and not (isinstance(code, str) and code.strip()):
        raise ApprovalError('an edit needs the new code: {"decision": "edit", "code": "def ..."}')
    edited = code if answer["decision"] == "edit" else None
    return Approval(decision=answer["decision"], reason=reason), edited


def approval_note(approval: Approval) -> str:
    """The decision as a registered tool's provenance records it (``edit: docs``, ``approve``)."""
    return f"{approval['decision']}: {approval['reason']}" if approval["reason"] else approval["decision"]


MOST_ANSWERS = 20
"""Answers that are no decision a tool may get before it counts as rejected."""


def review_tool(tool: ToolSpec, verification: list[dict[str, Any]], provenance: dict[str, Any]) -> tuple[
    ToolSpec | None, Approval
]:  # fmt: skip
    """Stop the run until a person decides on ``tool``; the tool to register (None: rejected).

    An answer that is no decision (or an edit that is no tool) stops the run again, with
    the reason in the interrupt: LangGraph keeps every resume value a node was given and
    hands them to its interrupts in order, so each retry is one more interrupt.
    """
    problem = ""
    for _ in range(MOST_ANSWERS):
        answer = interrupt(
            {
                "kind": "tool approval",
                "tool": tool["name"],
                "signature": tool["signature"],
                "code": tool["code"],
                "verification": verification,
                "provenance": provenance,
                "resume_with": RESUME_FORMS,
                **({"error": problem} if problem else {}),
            }
        )
        try:
            approval, code = read_decision(answer)
            if approval["decision"] == "reject":
                return None, approval
            if code is None:
                return tool, approval
            return tool_from_source(code, preferred_name=tool["name"]), approval
        except (ApprovalError, ToolSourceError) as exc:
            problem = f"the last answer was refused: {exc}"
    return None, Approval(decision="reject", reason=f"no decision in {MOST_ANSWERS} answers; {problem}")
