"""judge_generality: keep only general tools for reuse; ask once for a general version of one that is not."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.asking import problem_text
from nodes.common.context import context_of
from nodes.common.judging import answer_key
from nodes.creator.context import CreatorContext
from nodes.creator.retrieve import reuses_stored_tool
from nodes.creator.state import CreatorState, Fallback, GeneralVersion
from tools_registry import ToolRegistry
from tools_registry.analysis import generality_issues


def _general_version_request(answer: str | None, issues: list[str]) -> str:
    return (
        f"The call printed {answer}, but the tool is not general: {'; '.join(issues)}. Rewrite it as a "
        "general, reusable function for this kind of problem, whose parameters take the problem's values, "
        "and a call that passes this problem's values to it."
    )


def _restored(state: CreatorState, fallback: Fallback, outcome: GeneralVersion) -> dict[str, object]:
    """The solved run kept aside, back in place, with the reasons its tool is not general and why."""
    before = state.get("generality_before", [])
    return {
        **fallback,
        "status": "solved",
        "generality": before,
        "fallback": None,
        "general_version": outcome,
    }


def judge_generality(state: CreatorState, runtime: Runtime[CreatorContext]) -> dict[str, object]:
    """Judge a solved run's tool from its code and call; a reused tool, unchanged, was judged when stored.

    A tool that is not general gets one rectify round asking for a general version
    (``general_tools``). If that version fails, or answers otherwise than the tool it
    generalizes, the solved run it replaced is restored, so the problem keeps its answer;
    ``generality`` then says why the tool is single-use.
    """
    if runtime.store is not None and reuses_stored_tool(state, ToolRegistry(runtime.store)):
        return {}
    fallback = state.get("fallback")
    if state.get("status") != "solved":
        assert fallback is not None, "judged only solved runs, or runs after a general version was asked for"
        return _restored(state, fallback, "failed")
    if fallback is not None and answer_key(state.get("answer") or "") != answer_key(fallback["answer"]):
        # Called with this problem's values, a general version must give the answer of the tool it
        # generalizes: nothing says a different one is right, and that tool was written for this problem.
        return _restored(state, fallback, "answered otherwise")
    tool, call = state["tool"], state.get("call", "")
    assert tool is not None, "a solved run has a tool"
    issues = generality_issues(tool["code"], tool["name"], call, problem_text(state))
    update: dict[str, object] = {"generality": issues, "fallback": None}
    if fallback is not None:
        return {**update, "general_version": "still single-use" if issues else "general"}
    update["generality_before"] = issues
    if issues and context_of(runtime, CreatorContext).general_tools:
        kept = Fallback(
            tool=tool, checks=state.get("checks", ""), call=call, answer=state.get("answer") or ""
        )
        return {
            **update,
            "fallback": kept,
            "status": "running",
            "rectify_request": _general_version_request(state.get("answer"), issues),
        }
    return update
