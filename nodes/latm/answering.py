"""The dispatcher's answering nodes: with a cached tool, by the maker directly, or by a tool made now.

They run the tool user, CREATOR and the tool maker as graphs of their own, so each keeps
its own state; the maker is given as a builder and compiled with the dispatcher's store,
in which it registers the tool it makes.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import openai
from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from nodes.common.context import ModelContext, context_of
from nodes.common.usage import ModelCall, usage_update
from nodes.creator.context import CreatorContext
from nodes.latm.context import LatmContext
from nodes.latm.examples import DEMOS_PER_SPLIT
from nodes.latm.queue import RequestQueue, Waiting
from nodes.latm.state import DispatchState, Example
from tools_registry import ToolRecord, ToolRegistry

Builder = StateGraph[Any, Any, Any, Any]
Compiled = CompiledStateGraph[Any, Any, Any, Any]


def _creator_context(context: LatmContext) -> CreatorContext:
    shared = {item.name: getattr(context, item.name) for item in fields(ModelContext)}
    return CreatorContext(**shared, register_tools=False)


def _use(user: Compiled, record: ToolRecord, request: str, context: LatmContext) -> dict[str, Any]:
    assert record.latm is not None
    state = user.invoke(
        {"request": request, "tool": record.spec(), "card": record.latm.card},
        context=context,
    )
    return dict(state)


def _spent(state: dict[str, Any]) -> dict[str, object]:
    """The sub-run's model calls, as this graph's ledger update."""
    return usage_update(list(state.get("model_calls", [])))


def use_cached_tool(
    state: DispatchState, runtime: Runtime[LatmContext], *, user: Compiled
) -> dict[str, object]:
    """Answer with the chosen family's cached tool; count the use (failed or not) in the registry."""
    assert runtime.store is not None and state.get("tool_id")
    registry = ToolRegistry(runtime.store)
    record = registry.get(str(state["tool_id"]))
    if record is None:
        return {
            "route": "cached tool",
            "answer": None,
            "error": f"tool {state['tool_id']} vanished from the store",
        }
    used = _use(user, record, state["request"], context_of(runtime, LatmContext))
    registry.record_use(record.id, ok=used.get("status") == "solved")
    # After make_tool found another worker's tool, the maker's own answer stands if the call fails.
    return {**_spent(used), "route": "cached tool", "answer": used.get("answer") or state.get("answer")}


def answer_directly(
    state: DispatchState, runtime: Runtime[LatmContext], *, creator: Compiled
) -> dict[str, object]:
    """The maker answers through CREATOR, so a family without a tool is never left unanswered."""
    assert runtime.store is not None
    solved = creator.invoke(
        {"problem": state["request"]}, context=_creator_context(context_of(runtime, LatmContext))
    )
    no_tool = RequestQueue(runtime.store).no_tool_reason(state["family"]) is not None
    return {**_spent(solved), "answer": solved.get("answer"), "route": "no tool" if no_tool else "queued"}


def _family_tool(registry: ToolRegistry, family: str) -> ToolRecord | None:
    """The family's newest LATM tool, if it has one."""
    made = [record for record in registry.tools() if record.latm is not None and record.latm.family == family]
    return made[-1] if made else None


def enqueue(state: DispatchState, runtime: Runtime[LatmContext]) -> dict[str, object]:
    """Queue the request under its family, with the maker's answer as its label.

    Another worker may have made the family's tool (or given up on it) since this request
    was dispatched, and emptied the queue before this row arrived: then the row is taken
    back, since nothing would ever answer it with a tool.
    """
    assert runtime.store is not None
    queue, family = RequestQueue(runtime.store), state["family"]
    row = queue.add(family, state["request"], state.get("answer"))
    if _family_tool(ToolRegistry(runtime.store), family) or queue.no_tool_reason(family) is not None:
        queue.remove(family, row.key)
    return {}


def _demos(waiting: list[Waiting]) -> tuple[list[Example], list[Example]]:
    labelled = [Example(question=row.request, answer=row.label) for row in waiting if row.label]
    half = min(DEMOS_PER_SPLIT, (len(labelled) + 1) // 2)
    return labelled[:half], labelled[half : half + DEMOS_PER_SPLIT]


def make_family_tool(
    state: DispatchState, runtime: Runtime[LatmContext], *, maker: Builder
) -> dict[str, object]:
    """The queue is full: the maker makes the family's tool from the maker's own answers.

    The tool is recorded as ``verified: self``; ``answer_waiters`` then answers every
    waiting request with it. If no tool passes, the family is marked so and its later
    requests go to the maker directly.

    Workers sharing the store make a family's tool once: one holds the family's lease
    while it makes it, and the others, once it is done, use what it made (``tool_id``
    without a route sends this request to ``use_tool``) or leave the family without a
    tool, as it did. The maker is the only graph this node runs, so a run resumed here
    finds the maker's own checkpoints, never another graph's.
    """
    assert runtime.store is not None
    registry, queue, family = ToolRegistry(runtime.store), RequestQueue(runtime.store), state["family"]
    with registry.locks.hold(f"toolmaker:latm-family:{family}"):
        if (record := _family_tool(registry, family)) is not None:
            return {"tool_id": record.id}
        if queue.no_tool_reason(family) is not None:
            return {"route": "no tool"}
        return _make_with_lease(state, runtime, maker=maker)


def _make_with_lease(
    state: DispatchState, runtime: Runtime[LatmContext], *, maker: Builder
) -> dict[str, object]:
    assert runtime.store is not None
    queue, family = RequestQueue(runtime.store), state["family"]
    waiting = queue.waiting(family)
    train, valid = _demos(waiting)
    if not train or not valid:
        answered = len(train) + len(valid)
        reason = f"the maker answered {answered} of the {len(waiting)} waiting requests; 2 are needed"
        queue.mark_no_tool(family, reason, state["request"])
        queue.clear(family)
        return {"route": "no tool", "error": None}
    made = maker.compile(store=runtime.store).invoke(
        {"task": family, "train": train, "valid": valid, "verified_by": "self"},
        context=context_of(runtime, LatmContext),
    )
    calls: list[ModelCall] = list(made.get("model_calls", []))
    if made.get("tool_id") and ToolRegistry(runtime.store).get(made["tool_id"]) is not None:
        return {**usage_update(calls), "route": "made now", "tool_id": made["tool_id"]}
    rejected = (made.get("approval") or {}).get("reason")
    why = f"a person rejected the tool: {rejected}" if rejected else made.get("reason")
    queue.mark_no_tool(family, why or "the tool was not registered", state["request"])
    queue.clear(family)
    return {**usage_update(calls), "route": "no tool"}


def answer_waiters(
    state: DispatchState, runtime: Runtime[LatmContext], *, user: Compiled
) -> dict[str, object]:
    """Answer every request waiting in the family's queue, this one included, with the tool made now.

    A call that fails, or whose user endpoint fails, leaves the maker's own answer standing
    (each waiter got it when it queued), so nobody goes unanswered; a failed endpoint is
    named in that waiter's entry, and the next waiter is still asked. The waiters are
    answered in the queue's order, so a run resumed after a kill finds each user run's
    checkpoints again.
    """
    assert runtime.store is not None and state.get("tool_id")
    registry, queue, family = ToolRegistry(runtime.store), RequestQueue(runtime.store), state["family"]
    record = registry.get(str(state["tool_id"]))
    assert record is not None  # registered by make_tool, and tools are never deleted
    context = context_of(runtime, LatmContext)
    calls: list[ModelCall] = []
    answers: list[dict[str, str | None]] = []
    answer = state.get("answer")
    try:
        for row in queue.waiting(family):
            try:
                used = _use(user, record, row.request, context)
            except openai.OpenAIError as exc:
                failed = f"{type(exc).__name__}: {exc}"
                answers.append({"request": row.request, "answer": row.label, "failed": failed})
                registry.record_use(record.id, ok=False)
                continue
            registry.record_use(record.id, ok=used.get("status") == "solved")
            calls += used.get("model_calls", [])
            final = used.get("answer") or row.label
            answers.append({"request": row.request, "answer": final})
            if row.request == state["request"]:
                answer = final
    finally:
        # Whatever else fails here, no queue is left behind that nothing would empty (a kill,
        # which skips this, leaves it whole for the resumed run).
        queue.clear(family)
    return {**usage_update(calls), "answer": answer, "waiters": answers}
