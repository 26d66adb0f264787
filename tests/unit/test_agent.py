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


ADD = '''def add_numbers(a: float, b: float) -> float:
    """Return the sum of the two numbers a and b."""
    return a + b
'''


def registered(store, code, name):
    ToolRegistry(store).add({"name": name, "code": code, "docstring": "", "signature": f"{name}(a, b)"})


def test_with_nothing_found_the_agent_makes_the_tool_without_a_turn_calls_it_and_stops_at_its_answer():
    store = InMemoryStore()
    replies = [
        fenced(MULTIPLY),  # CREATOR's create and decide, inside make_tool
        fenced("print(multiply_numbers(6, 7))"),
        said("multiply_numbers", a=6, b=7),
    ]
    state, models = ask(store, replies, "What is the product of the numbers 6 and 7?")
    assert state["answer"] == "42" and state["steps"] == 1
    assert len(models.maker.prompts) == len(replies)  # ended on the tool's answer: no further turn
    assert [r.name for r in ToolRegistry(store).tools()] == ["multiply_numbers"]
    assert state["messages"][1].tool_calls[0]["name"] == "make_tool"

    reply = said("multiply_numbers", a=3, b=5)
    again, models = ask(store, [reply], "What is the product of the numbers 3 and 5?")
    [tool] = ToolRegistry(store).tools()
    assert again["answer"] == "15" and ToolRegistry(store).stats(tool.id).uses == 2
    assert again["offered"] == ["multiply_numbers"]
    [(system, _)] = [(p[0].content, p[1].content) for p in models.maker.prompts]
    assert "- multiply_numbers(a: float, b: float) -> float: Return the product" in system


def test_when_the_found_tool_does_not_fit_the_model_makes_one_and_calls_that():
    store = InMemoryStore()
    registered(store, ADD, "add_numbers")
    replies = [
        said("make_tool", problem="What is the product of the two numbers 6 and 7?"),
        fenced(MULTIPLY),
        fenced("print(multiply_numbers(6, 7))"),
        said("multiply_numbers", a=6, b=7),
    ]
    state, _ = ask(store, replies, "What is the product of the two numbers 6 and 7?")
    assert state["answer"] == "42" and state["steps"] == 2
    assert state["offered"] == ["add_numbers", "multiply_numbers"]
    assert sorted(r.name for r in ToolRegistry(store).tools()) == ["add_numbers", "multiply_numbers"]


def test_a_failed_making_is_told_to_the_model_and_the_run_ends_without_an_answer():
    state, models = ask(InMemoryStore(), ["no code here"] * 9, "What is the product of 6 and 7?")
    made = state["messages"][2]
    assert made.name == "make_tool" and made.status == "error" and "no tool was made" in made.content
    assert "3 rectify rounds; the last failure: The rectify step's reply held no usable fix" in made.content
    assert state["answer"] is None and state["steps"] == 1
    assert "no tool was made" in models.maker.prompts[-1][-1].content  # the model saw why


def test_a_failing_call_goes_back_to_the_model_and_the_loop_is_bounded():
    store = InMemoryStore()
    registered(store, MULTIPLY, "multiply_numbers")
    wrong = said("multiply_numbers", x=1)
    state, models = ask(store, [wrong] * 5, "What is the product of the numbers 6 and 7?", max_agent_steps=3)
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


def test_the_agent_benchmark_counts_model_calls_inside_tool_making_and_tells_made_from_reused():
    from benchmarks.agent_questions import ask as ask_question

    store = InMemoryStore()
    question = {"id": "product-1", "capability": "product", "asking": "new", "answer": 42.0,
                "question": "What is the product of the numbers 6 and 7?"}  # fmt: skip
    models = ScriptedModels(
        maker=[fenced(MULTIPLY), fenced("print(multiply_numbers(6, 7))"), said("multiply_numbers", a=6, b=7)]
    )
    agent = build_toolmaker_agent(models=models, executor=EXECUTOR).compile(store=store)
    row = ask_question(agent, question, before=set())
    assert row["correct"] and row["tools_made"] == ["multiply_numbers"] and row["tools_reused"] == []
    assert row["model_calls"] == 3 and row["agent_turns"] == 1

    models = ScriptedModels(maker=[said("multiply_numbers", a=3, b=5)])
    agent = build_toolmaker_agent(models=models, executor=EXECUTOR).compile(store=store)
    row = ask_question(agent, {**question, "answer": 16.0}, before={"multiply_numbers"})
    assert not row["correct"] and row["answer_given"] == "15" and row["tools_reused"] == ["multiply_numbers"]
    assert row["tools_made"] == [] and row["model_calls"] == 1
