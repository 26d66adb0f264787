from pathlib import Path

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langgraph.runtime import Runtime
from langgraph.store.memory import InMemoryStore

from graphs.creator import build_creator_graph
from graphs.running import solve
from nodes import CreatorContext
from sandbox import ExecutionResult, SubprocessExecutor
from tests.fakes import ScriptedModels, fenced
from tools_registry import ToolRegistry, ToolStats, tool_from_source

GOLDEN_TOPOLOGY = Path(__file__).parent / "creator_topology.mmd"

TOOL = '''
def digit_sum_of_power(base: int, exponent: int) -> int:
    """Sum of the decimal digits of base ** exponent."""
    return sum(int(d) for d in str(base ** exponent))

assert digit_sum_of_power(2, 3) == 8
print(digit_sum_of_power(2, 3))
'''
BROKEN_TOOL = '''
def digit_sum_of_power(base: int, exponent: int) -> int:
    """Sum of the decimal digits of base ** exponent."""
    return sum(str(base ** exponent))
'''
CALL = "print(digit_sum_of_power(2, 100))"
PROBLEM = {"problem": "What is the sum of the digits of 2**100?"}


def run(models, **context):
    graph = build_creator_graph(models=models, executor=SubprocessExecutor()).compile()
    return solve(graph, PROBLEM, CreatorContext(**{"self_checks": True, **context}))


def test_topology_matches_golden_file():
    graph = build_creator_graph(models=ScriptedModels(), executor=SubprocessExecutor()).compile()
    assert graph.get_graph().draw_mermaid() == GOLDEN_TOPOLOGY.read_text()


def test_solved_in_one_pass_keeps_tool_checks_and_call():
    models = ScriptedModels(maker=[fenced(TOOL, "Here is a tool."), fenced(CALL)])
    report = run(models)
    assert report["status"] == "solved" and report["answer"] == "115"
    assert report["rounds"] == 0 and len(report["attempts"]) == 1
    assert report["tool"]["name"] == "digit_sum_of_power"
    assert "print(" not in report["tool"]["code"]
    assert report["attempts"][0]["checks"] == "assert digit_sum_of_power(2, 3) == 8"
    assert report["tokens"] == {"maker": {"input": 200, "output": 20, "calls": 2}}


def test_a_config_of_callbacks_alone_runs_a_graph_without_a_checkpointer():
    """Tracing callbacks, as a user passes them; LangGraph crashed when asked for durable steps here."""
    seen = []

    class Count(BaseCallbackHandler):
        def on_llm_end(self, response, **kwargs):
            seen.append(response.generations[0][0].text)

    models = ScriptedModels(maker=[fenced(TOOL), fenced(CALL)])
    graph = build_creator_graph(models=models, executor=SubprocessExecutor()).compile()
    report = solve(graph, PROBLEM, CreatorContext(), config={"callbacks": [Count()]})
    assert report["error"] is None and report["answer"] == "115" and len(seen) == 2


def test_decide_sees_signature_and_docstring_not_the_body():
    models = ScriptedModels(maker=[fenced(TOOL), fenced(CALL)])
    run(models)
    decide_prompt = models.maker.prompts[1][-1].content
    assert "def digit_sum_of_power(base: int, exponent: int) -> int:" in decide_prompt
    assert "Sum of the decimal digits" in decide_prompt
    assert "str(base ** exponent)" not in decide_prompt


def test_execution_error_goes_to_rectify_which_fixes_the_tool():
    models = ScriptedModels(
        maker=[fenced(BROKEN_TOOL), fenced(CALL), "The mistake is in the tool." + fenced(TOOL)]
    )
    report = run(models)
    assert report["status"] == "solved" and report["answer"] == "115" and report["rounds"] == 1
    first, second = report["attempts"]
    assert first["result"]["status"] == "error" and "TypeError" in first["failure"]
    assert second["fixed"] == "tool"
    rectify_prompt = models.maker.prompts[2][-1].content
    assert "TypeError" in rectify_prompt and 'File "tool", line 3' in rectify_prompt


def test_rectify_can_fix_only_the_call():
    models = ScriptedModels(
        maker=[fenced(TOOL), fenced("print(digit_sum_of_power(2))"), "The call is wrong." + fenced(CALL)]
    )
    report = run(models)
    assert report["status"] == "solved" and report["attempts"][-1]["fixed"] == "call"


def test_loop_stops_after_max_rounds_with_failed_status():
    broken = fenced(BROKEN_TOOL)
    models = ScriptedModels(
        maker=[broken, fenced(CALL), broken.replace("Sum of", "The sum of"), broken.replace("Sum of", "Sum")]
    )
    report = run(models, max_rectify_rounds=2)
    assert report["status"] == "failed" and report["answer"] is None
    assert report["rounds"] == 2 and len(report["attempts"]) == 3
    assert len(models.maker.prompts) == 4


def test_unchanged_fix_is_reported_without_loosening_the_bound():
    models = ScriptedModels(maker=[fenced(BROKEN_TOOL), fenced(CALL), fenced(BROKEN_TOOL)])
    report = run(models, max_rectify_rounds=1)
    assert report["status"] == "failed"
    assert report["attempts"][1]["fixed"] == "none"
    assert report["attempts"][1]["result"] is None
    assert report["attempts"][1]["failure"].startswith("The last fix changed neither")


def test_unparseable_create_skips_decide_and_rectify_writes_both():
    models = ScriptedModels(
        maker=[
            "I would just compute it: the answer is 115.",
            fenced(TOOL.replace("print(", "x = (") + "\n" + CALL),
        ]
    )
    report = run(models)
    assert report["status"] == "solved" and report["answer"] == "115"
    assert "held no Python code" in report["attempts"][0]["failure"]
    assert report["attempts"][1]["fixed"] == "both"
    assert len(models.maker.prompts) == 2


def test_wrong_self_check_goes_to_rectify_with_the_actual_value():
    wrong_check = TOOL.replace("== 8", "== 7")
    models = ScriptedModels(maker=[fenced(wrong_check), fenced(CALL), fenced(TOOL)])
    report = run(models)
    assert report["status"] == "solved"
    assert "the tool returned 8, the check expected 7" in report["attempts"][0]["failure"]


def test_self_checks_are_off_by_default_and_then_neither_asked_for_nor_run():
    wrong_check = TOOL.replace("== 8", "== 7")
    models = ScriptedModels(maker=[fenced(wrong_check), fenced(CALL)])
    graph = build_creator_graph(models=models, executor=SubprocessExecutor()).compile()
    report = solve(graph, PROBLEM, CreatorContext())
    assert report["status"] == "solved" and report["attempts"][0]["checks"] == ""
    assert "assert" not in models.maker.prompts[0][-1].content


def test_self_checks_are_asked_for_when_on():
    models = ScriptedModels(maker=[fenced(TOOL), fenced(CALL)])
    run(models)
    assert "`assert` lines" in models.maker.prompts[0][-1].content


def test_hanging_code_times_out_and_is_rectified():
    hanging = TOOL.replace("return sum", "while True:\n        pass\n    return sum")
    models = ScriptedModels(maker=[fenced(hanging), fenced(CALL), fenced(TOOL)])
    report = run(models, execution_timeout_s=1.0, self_checks=False)
    assert report["attempts"][0]["result"]["status"] == "timeout"
    assert report["status"] == "solved"


class BrokenSandbox:
    name = "broken"

    def run(self, main, *, modules=None, limits=None) -> ExecutionResult:
        return ExecutionResult(
            status="sandbox_error",
            stdout="",
            stderr="",
            error={"type": "OSError", "message": "cannot fork", "traceback": ""},
            seconds=0.0,
            backend=self.name,
            confinement=[],
        )


def test_sandbox_failure_ends_the_run_without_blaming_the_model():
    models = ScriptedModels(maker=[fenced(TOOL), fenced(CALL)])
    graph = build_creator_graph(models=models, executor=BrokenSandbox()).compile()
    report = solve(graph, PROBLEM, CreatorContext())
    assert report["status"] == "failed" and len(models.maker.prompts) == 2
    assert "sandbox itself failed" in report["attempts"][0]["failure"]


def test_user_role_can_play_creator():
    models = ScriptedModels(user=[fenced(TOOL), fenced(CALL)])
    report = run(models, creator_role="user")
    assert report["status"] == "solved" and set(report["tokens"]) == {"user"}
    assert {request.role for request in models.requests} == {"user"}


def test_rectify_node_alone():
    graph = build_creator_graph(
        models=ScriptedModels(maker=["Fix in the call." + fenced(CALL)]), executor=SubprocessExecutor()
    ).compile()
    tool = {"name": "digit_sum_of_power", "code": BROKEN_TOOL, "docstring": "", "signature": ""}
    attempt = {
        "round": 0,
        "tool_code": BROKEN_TOOL,
        "checks": "",
        "call": "print(1)",
        "result": None,
        "answer": None,
        "failure": "boom",
        "fixed": "none",
    }
    update = graph.nodes["rectify"].invoke(
        {**PROBLEM, "tool": tool, "checks": "", "call": "print(1)", "attempts": [attempt], "rounds": 0},
        # A node invoked on its own gets its Runtime from this config key, as Pregel passes it.
        {"configurable": {"__pregel_runtime": Runtime(context=CreatorContext())}},
    )
    assert update["last_fix"] == "call" and update["call"] == CALL and update["rounds"] == 1


@pytest.mark.parametrize("variant", ["no-such-variant"])
def test_unknown_prompt_variant_is_a_clear_error(variant):
    report = run(ScriptedModels(), create_prompt=variant)
    assert report["error"] and "no prompt variant 'no-such-variant'" in report["error"]
    assert "default" in report["error"]


def test_readme_diagram_is_the_graphs_own():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert f"```mermaid\n{GOLDEN_TOPOLOGY.read_text().strip()}\n```" in readme


def test_solved_tool_is_registered_with_demo_and_provenance():
    store = InMemoryStore()
    models = ScriptedModels(maker=[fenced(TOOL), fenced(CALL)])
    graph = build_creator_graph(models=models, executor=SubprocessExecutor()).compile(store=store)
    final = graph.invoke(PROBLEM, context=CreatorContext(self_checks=True))
    record = ToolRegistry(store).get(final["tool_id"])
    assert record.name == "digit_sum_of_power" and record.demos[0].output == "115"
    assert record.provenance.problem == PROBLEM["problem"] and record.provenance.prompt_variant == "default"
    assert record.verification[0].call == "assert digit_sum_of_power(2, 3) == 8"


def test_failed_runs_and_storeless_graphs_register_nothing():
    store = InMemoryStore()
    models = ScriptedModels(maker=[fenced(BROKEN_TOOL), fenced(CALL), fenced(BROKEN_TOOL)])
    graph = build_creator_graph(models=models, executor=SubprocessExecutor()).compile(store=store)
    final = graph.invoke(PROBLEM, context=CreatorContext(max_rectify_rounds=1))
    assert final["status"] == "failed" and "tool_id" not in final and ToolRegistry(store).tools() == []
    assert run(ScriptedModels(maker=[fenced(TOOL), fenced(CALL)]))["tool_id"] is None


def test_reuse_takes_a_matching_registered_tool_and_skips_create():
    store = InMemoryStore()
    ToolRegistry(store).add(tool_from_source(TOOL))
    models = ScriptedModels(maker=[fenced("print(digit_sum_of_power(3, 50))")])
    graph = build_creator_graph(models=models, executor=SubprocessExecutor()).compile(store=store)
    final = graph.invoke(
        {"problem": "What is the sum of the decimal digits of 3 to the power 50?"},
        context=CreatorContext(reuse_tools=True),
    )
    assert final["status"] == "solved" and final["answer"] == str(sum(int(d) for d in str(3**50)))
    assert final["reused_tool_id"].startswith("digit_sum_of_power@") and final["reuse_score"] >= 0.35
    assert len(models.maker.prompts) == 1 and "already defined" in models.maker.prompts[0][-1].content
    assert (
        ToolRegistry(store).stats(final["reused_tool_id"]).uses == 1
        and final["tool_id"] == final["reused_tool_id"]
    )


def test_a_reused_tool_counts_its_failures_and_a_rectified_one_becomes_a_new_version():
    store = InMemoryStore()
    broken = ToolRegistry(store).add(tool_from_source(BROKEN_TOOL))
    problem = {"problem": "What is the sum of the decimal digits of 2 to the power 100?"}

    def reuse(replies, rounds):
        graph = build_creator_graph(models=ScriptedModels(maker=replies), executor=SubprocessExecutor())
        return graph.compile(store=store).invoke(
            problem, context=CreatorContext(reuse_tools=True, max_rectify_rounds=rounds)
        )

    failed = reuse([fenced(CALL)], rounds=0)
    assert failed["status"] == "failed" and failed["reused_tool_id"] == broken.id
    assert ToolRegistry(store).stats(broken.id) == ToolStats(created=1, uses=1, failures=1)
    mended = reuse([fenced(CALL), fenced(TOOL)], rounds=1)
    assert mended["status"] == "solved" and mended["answer"] == "115"
    fixed = ToolRegistry(store).get(mended["tool_id"])
    assert (
        fixed is not None and (fixed.version, fixed.previous) == (2, broken.id) and "int(d)" in fixed.source
    )
    assert ToolRegistry(store).stats(broken.id) == ToolStats(created=1, uses=2, failures=1)


def test_reuse_below_the_threshold_creates_a_new_tool():
    store = InMemoryStore()
    ToolRegistry(store).add(tool_from_source(TOOL))
    models = ScriptedModels(maker=[fenced(TOOL), fenced(CALL)])
    graph = build_creator_graph(models=models, executor=SubprocessExecutor()).compile(store=store)
    final = graph.invoke(
        {"problem": "Name a prime between 10 and 15."}, context=CreatorContext(reuse_tools=True)
    )
    assert "reused_tool_id" not in final and len(models.maker.prompts) == 2


def test_a_fix_that_leaves_the_call_out_after_decide_failed_gets_its_call_from_decide():
    tool_only = TOOL.split("assert")[0]
    unusable_call = "I would call it with 2 and 100."
    models = ScriptedModels(maker=[fenced(TOOL), unusable_call, fenced(tool_only), fenced(CALL)])

    report = run(models)

    assert report["status"] == "solved" and report["answer"] == "115"
    assert "decide step's reply held no usable call" in models.maker.prompts[2][-1].content  # rectify's
    after_fix = models.maker.prompts[3][-1].content  # decide's: the signature, not the body
    assert "def digit_sum_of_power(base: int, exponent: int)" in after_fix and "str(base" not in after_fix
