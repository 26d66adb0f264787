"""The toolmaker agent on scripted models that write their tool calls as text, as small models do."""

import json

from langgraph.store.memory import InMemoryStore

from graphs.agent import AgentContext, build_toolmaker_agent, make_tool_tool
from sandbox import SubprocessExecutor
from tests.fakes import ScriptedModels, fenced
from tools_registry import ToolRegistry

EXECUTOR = SubprocessExecutor()
MULTIPLY = '''def multiply_numbers(a: float, b: float) -> float:
    """Return the product of the two numbers a and b."""
    return a * b
'''


def said(tool: str, **arguments: object) -> str:
    """A tool call as a small model writes it: fenced JSON in its text."""
    return f"I will call {tool}.\n```json\n{json.dumps({'name': tool, 'arguments': arguments})}\n```"


def ask(store, replies, question, **context):
    models = ScriptedModels(maker=replies)
    agent = build_toolmaker_agent(models=models, executor=EXECUTOR).compile(store=store)
    state = agent.invoke({"messages": [("user", question)]}, context=AgentContext(**context))
    return state, models


def test_the_agent_makes_the_tool_it_lacks_calls_it_and_stops_at_its_answer():
    store = InMemoryStore()
    replies = [
        said("search_tools", query="multiply two numbers"),
        said("make_tool", problem="What is 6 times 7?"),
        fenced(MULTIPLY),  # CREATOR's create and decide, inside make_tool
        fenced("print(multiply_numbers(6, 7))"),
        said("call_tool", name="multiply_numbers", arguments={"a": 6, "b": 7}),
    ]
    state, models = ask(store, replies, "What is 6 times 7?")
    assert state["answer"] == "42" and state["steps"] == 3
    assert len(models.maker.prompts) == len(replies)  # ended on the tool's answer: no further turn
    assert [r.name for r in ToolRegistry(store).tools()] == ["multiply_numbers"]

    second = [
        said("search_tools", query="product"),
        said("call_tool", name="multiply_numbers", arguments={"a": 3}),
    ]
    second[1] = said("call_tool", name="multiply_numbers", arguments={"a": 3, "b": 5})
    again, _ = ask(store, second, "What is 3 times 5?")
    [tool] = ToolRegistry(store).tools()
    assert again["answer"] == "15" and ToolRegistry(store).stats(tool.id).uses == 2
    found = json.loads(again["messages"][2].content)
    assert found[0]["name"] == "multiply_numbers"


def test_a_failing_call_goes_back_to_the_model_and_the_loop_is_bounded():
    store = InMemoryStore()
    ToolRegistry(store).add(
        {"name": "multiply_numbers", "code": MULTIPLY, "docstring": "", "signature": "multiply_numbers(a, b)"}
    )
    wrong = said("call_tool", name="multiply_numbers", arguments={"x": 1})
    state, models = ask(store, [wrong] * 5, "What is 6 times 7?", max_agent_steps=3)
    assert state["answer"] is None and state["steps"] == 3 and len(models.maker.prompts) == 3
    errors = [m for m in state["messages"] if getattr(m, "status", None) == "error"]
    assert len(errors) == 3 and "unexpected keyword argument 'x'" in errors[0].content


def test_make_tool_tool_is_a_langchain_tool_whose_tool_is_usable_at_once():
    store = InMemoryStore()
    registry = ToolRegistry(store)
    models = ScriptedModels(maker=[fenced(MULTIPLY), fenced("print(multiply_numbers(2, 21))")])
    made = make_tool_tool(registry, models=models, executor=EXECUTOR).invoke(
        {"problem": "What is 2 times 21?"}
    )
    assert made["name"] == "multiply_numbers" and made["answer_to_the_example"] == "42"
    failing = make_tool_tool(registry, models=ScriptedModels(maker=["no code here"] * 8), executor=EXECUTOR)
    assert "no tool was made" in failing.invoke({"problem": "What is 2 times 21?"})
