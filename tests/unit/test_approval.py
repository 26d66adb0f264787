"""A person approves, rejects or edits a new tool before it is registered (``approve_tools``)."""

import json

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command

from graphs.creator import build_creator_graph
from graphs.latm import build_tool_maker_graph
from graphs.running import solve
from nodes import CreatorContext
from nodes.common.approval import ApprovalError, read_decision
from nodes.latm import LatmContext
from sandbox import SubprocessExecutor
from tests.fakes import FakeOpenAIServer, ScriptedModels, fenced
from tests.unit.test_latm import CALLS, SORT, TRAIN, VALID
from tests.unit.test_runs import CREATE, DECIDE, PROBLEM, toolmaker
from tools_registry import ToolRegistry

EXECUTOR = SubprocessExecutor()
EDITED = (
    'def multiply_add(a: int, b: int, c: int) -> int:\n    """a * b + c, checked."""\n    return a * b + c\n'
)


def creator_run(thread: str = "t"):
    store, saver = InMemoryStore(), InMemorySaver()
    models = ScriptedModels(maker=[CREATE, DECIDE])
    graph = build_creator_graph(models=models, executor=EXECUTOR).compile(store=store, checkpointer=saver)
    config = {"configurable": {"thread_id": thread}}
    context = CreatorContext(approve_tools=True)
    first = solve(graph, {"problem": PROBLEM}, context, config=config)
    return graph, config, context, ToolRegistry(store), first


def test_a_new_tool_waits_for_a_person_and_nothing_is_registered_before():
    graph, config, context, registry, first = creator_run()
    assert first["answer"] == "396" and first["error"] is None
    waiting = first["waiting_for"]
    assert waiting["kind"] == "tool approval" and "def multiply_add" in waiting["code"]
    assert waiting["verification"][-1] == {"call": "print(multiply_add(17, 23, 5))", "printed": "396"}
    assert waiting["provenance"]["problem"] == PROBLEM and registry.tools() == []
    assert graph.get_state(config).next == ("register",)


@pytest.mark.parametrize(
    "decision, registered, approval",
    [
        ({"decision": "approve"}, "a * b + c.", "approve"),
        ({"decision": "edit", "code": EDITED, "reason": "docs"}, "a * b + c, checked.", "edit: docs"),
        ({"decision": "reject", "reason": "too narrow"}, None, None),
    ],
)
def test_the_decision_registers_the_tool_the_edit_or_nothing(decision, registered, approval):
    graph, config, context, registry, _ = creator_run()
    done = solve(graph, Command(resume=decision), context, config=config)
    assert done["waiting_for"] is None and done["approval"]["decision"] == decision["decision"]
    assert done["answer"] == "396" and graph.get_state(config).next == ()
    tools = registry.tools()
    assert [t.description for t in tools] == ([registered] if registered else [])
    if approval:
        assert tools[0].provenance.approval == approval and done["tool_id"] == tools[0].id
    else:
        assert done["approval"]["reason"] == "too narrow" and done.get("tool_id") is None


def test_a_resume_value_that_is_no_decision_is_refused_and_the_run_still_waits():
    graph, config, context, registry, _ = creator_run()
    refused = solve(graph, Command(resume={"decision": "maybe"}), context, config=config)
    assert refused["error"] is None and "not a tool approval" in refused["waiting_for"]["error"]
    assert graph.get_state(config).next == ("register",) and registry.tools() == []
    done = solve(graph, Command(resume=True), context, config=config)
    assert done["error"] is None and len(registry.tools()) == 1


def test_decisions_are_read_from_the_forms_studio_and_scripts_send():
    assert read_decision(True)[0]["decision"] == "approve"
    assert read_decision(False)[0] == {"decision": "reject", "reason": "rejected"}
    assert read_decision({"decision": "edit", "code": "def f(): ..."})[1] == "def f(): ..."
    for bad in ({"decision": "reject"}, {"decision": "edit"}, "perhaps", 3):
        with pytest.raises(ApprovalError):
            read_decision(bad)


@pytest.mark.parametrize("config", [None, {"callbacks": []}], ids=["no config", "a config of callbacks"])
def test_without_a_checkpointer_the_run_says_it_cannot_wait(config):
    models = ScriptedModels(maker=[CREATE, DECIDE])
    graph = build_creator_graph(models=models, executor=EXECUTOR).compile(store=InMemoryStore())
    report = solve(graph, {"problem": PROBLEM}, CreatorContext(approve_tools=True), config=config)
    assert "no checkpointer" in report["error"] and ToolRegistry(graph.store).tools() == []


def test_a_made_latm_tool_waits_too_and_a_rejected_one_is_not_registered():
    store, saver = InMemoryStore(), InMemorySaver()
    models = ScriptedModels(maker=[fenced(SORT + CALLS), fenced(CALLS)])
    graph = build_tool_maker_graph(models=models, executor=EXECUTOR).compile(store=store, checkpointer=saver)
    config = {"configurable": {"thread_id": "m"}}
    demos = {"task": "word_sorting", "train": TRAIN, "valid": VALID}
    context = LatmContext(approve_tools=True)
    stopped = graph.invoke(demos, config, context=context)
    shown = stopped["__interrupt__"][0].value
    assert (
        shown["tool"] == "sort_words"
        and len(shown["verification"]) == 6
        and ToolRegistry(store).tools() == []
    )
    done = graph.invoke(Command(resume={"decision": "reject", "reason": "no"}), config, context=context)
    assert (
        done["approval"]["reason"] == "no" and done["tool_id"] is None and ToolRegistry(store).tools() == []
    )


def test_the_command_line_stops_for_approval_and_a_new_process_decides():
    env = {"TOOLMAKER_REQUEST_RETRIES": "0"}
    with FakeOpenAIServer([CREATE, DECIDE]) as server:
        stopped = toolmaker("solve", PROBLEM, "--base-url", server.base_url, "--approve-tools",
                            "--thread-id", "ask", "--json", env=env)  # fmt: skip
    assert stopped.returncode == 3, stopped.stderr
    assert json.loads(stopped.stdout)["waiting_for"]["tool"] == "multiply_add"
    assert "toolmaker runs resume ask" in " ".join(stopped.stderr.split())
    assert json.loads(toolmaker("tools", "list", "--json", env=env).stdout) == []
    rejected = toolmaker("runs", "resume", "ask", "--no-approve", "--reason", "one-off", "--json", env=env)
    assert rejected.returncode == 0, rejected.stderr
    assert json.loads(rejected.stdout)["approval"] == {"decision": "reject", "reason": "one-off"}
    assert json.loads(toolmaker("tools", "list", "--json", env=env).stdout) == []
    with FakeOpenAIServer([CREATE, DECIDE]) as server:
        approved = toolmaker("solve", PROBLEM, "--base-url", server.base_url, "--approve", env=env)
    assert approved.returncode == 0, approved.stderr
    tools = json.loads(toolmaker("tools", "list", "--json", env=env).stdout)
    assert [t["provenance"]["approval"] for t in tools] == ["approve"]
