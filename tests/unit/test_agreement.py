"""creator-agree: more sampled candidates vote on a solved problem's answer; a split goes to rectify."""

import pytest

from graphs.creator import build_creator_graph
from graphs.running import solve
from nodes import CreatorContext
from nodes.common.usage import usage_by
from sandbox import ExecutionResult, SubprocessExecutor
from tests.fakes import ScriptedModels, fenced

PROBLEM = {"problem": "What is 17 * 23 + 5?"}
RIGHT = fenced(
    'def multiply_add(a: int, b: int, c: int) -> int:\n    """a * b + c."""\n    return a * b + c\n'
)
WRONG = fenced(
    'def multiply_add(a: int, b: int, c: int) -> int:\n    """a * b + c."""\n    return a * (b + c)\n'
)
OTHER = fenced(
    'def times_plus(x: int, y: int, z: int) -> int:\n    """x * y + z."""\n    return x * y + z + 1\n'
)
CALL = fenced("print(multiply_add(17, 23, 5))")
OTHER_CALL = fenced("print(times_plus(17, 23, 5))")


def agree(replies, **context):
    models = ScriptedModels(maker=replies)
    graph = build_creator_graph(models=models, executor=SubprocessExecutor()).compile()
    settings = {"agree_candidates": 3, "general_tools": False, **context}
    return solve(graph, PROBLEM, CreatorContext(**settings)), models


def test_a_majority_answer_stands_and_the_candidates_calls_are_recorded_under_agree():
    report, models = agree([RIGHT, CALL, RIGHT, CALL, WRONG, CALL])
    assert report["status"] == "solved" and report["answer"] == "396" and report["rounds"] == 0
    by_node = usage_by(report["model_calls"], "node")
    assert {node: usage["calls"] for node, usage in by_node.items()} == {"create": 1, "decide": 1, "agree": 4}
    sampled = [request for request in models.requests if request.temperature > 0]
    assert [(r.temperature, r.seed) for r in sampled] == [(0.7, 1), (0.7, 1), (0.7, 2), (0.7, 2)]


def test_a_wrong_first_answer_outvoted_gives_way_to_the_majoritys_tool_and_call():
    report, _ = agree([WRONG, CALL, RIGHT, CALL, RIGHT, CALL])
    assert report["answer"] == "396" and "a * b + c" in report["tool"]["code"]
    assert report["attempts"][-1]["answer"] == "476"  # what the first candidate printed


def test_a_split_goes_to_rectify_with_every_candidate_shown_and_an_unchanged_reply_keeps_the_code():
    judged = RIGHT + CALL  # the model judges the code under rectify right and gives it back
    report, models = agree([RIGHT, CALL, WRONG, CALL, OTHER, OTHER_CALL, judged])
    assert report["status"] == "solved" and report["answer"] == "396" and report["rounds"] == 1
    shown = models.maker.prompts[-1][-1].content
    assert all(f"It printed: {answer}" in shown for answer in ("396", "476", "397"))
    assert "times_plus" in shown and len(report["attempts"]) == 2


def test_one_answer_with_no_other_is_no_majority_and_rectify_is_told_the_others_gave_none():
    no_answer = fenced("print(multiply_add(17))")
    report, models = agree(
        [RIGHT, CALL, RIGHT, no_answer, OTHER, fenced("print(times_plus(1))"), RIGHT + CALL]
    )
    assert report["status"] == "solved" and report["answer"] == "396" and report["rounds"] == 1
    shown = models.maker.prompts[-1][-1].content
    assert "the other tools written independently for this problem gave no answer" in shown
    assert "disagree" not in shown and "TypeError" in shown


def test_a_split_with_no_round_left_keeps_the_first_answer():
    report, _ = agree([RIGHT, CALL, WRONG, CALL, OTHER, OTHER_CALL], max_rectify_rounds=0)
    assert report["status"] == "solved" and report["answer"] == "396" and report["rounds"] == 0


def test_a_split_whose_judging_rounds_end_without_an_answer_keeps_the_first_answer():
    broken = fenced("print(multiply_add(17))")  # rectify's judgement of the split does not run
    report, _ = agree([RIGHT, CALL, WRONG, CALL, OTHER, OTHER_CALL, broken], max_rectify_rounds=1)
    assert report["status"] == "solved" and report["answer"] == "396" and report["rounds"] == 1
    assert report["call"] == "print(multiply_add(17, 23, 5))" and "a * b + c" in report["tool"]["code"]
    assert report["attempts"][-1]["answer"] is None and "TypeError" in report["attempts"][-1]["failure"]


class SandboxFailingAfter(SubprocessExecutor):
    """Runs code until ``runs`` have run, then fails as the sandbox itself would."""

    def __init__(self, runs):
        super().__init__()
        self.left = runs

    def run(self, main, **options):
        if self.left == 0:
            error = {"type": "OSError", "message": "no space left on device", "traceback": ""}
            return ExecutionResult(
                status="sandbox_error",
                stdout="",
                stderr="",
                error=error,
                seconds=0.0,
                backend="t",
                confinement=[],
            )
        self.left -= 1
        return super().run(main, **options)


def test_a_sandbox_failure_while_a_split_is_judged_keeps_the_first_answer_and_records_the_failure():
    models = ScriptedModels(maker=[RIGHT, CALL, WRONG, CALL, OTHER, OTHER_CALL, RIGHT + CALL])
    graph = build_creator_graph(models=models, executor=SandboxFailingAfter(runs=3)).compile()
    report = solve(graph, PROBLEM, CreatorContext(agree_candidates=3, general_tools=False))
    assert report["status"] == "solved" and report["answer"] == "396"
    assert "The sandbox itself failed: no space left on device" in (report["attempts"][-1]["failure"] or "")


def test_a_run_without_a_vote_still_fails_when_its_rounds_run_out():
    broken = fenced("print(multiply_add(17))")
    report, _ = agree([RIGHT, broken, broken], agree_candidates=1, max_rectify_rounds=1)
    assert report["status"] == "failed" and report["answer"] is None


@pytest.mark.parametrize(
    "sampling, replies, sampled",
    [
        ("calls", [RIGHT, CALL, CALL, CALL], ["decide", "decide"]),  # the solved tool, new calls
        ("tools", [RIGHT, CALL, RIGHT, CALL, RIGHT, CALL], ["create", "create"]),  # greedy calls
        ("both", [RIGHT, CALL, RIGHT, CALL, RIGHT, CALL], ["create", "decide", "create", "decide"]),
    ],
)
def test_what_each_further_candidate_samples_is_configurable(sampling, replies, sampled):
    report, models = agree(replies, agree_sampling=sampling)
    assert report["answer"] == "396" and len(models.maker.prompts) == len(replies)
    # decide's prompt shows the tool's signature; create's does not know it yet
    asked = [
        "decide" if "multiply_add(a: int" in prompt[-1].content else "create"
        for prompt in models.maker.prompts
    ]
    temperatures = [request.temperature for request in models.requests]
    assert [node for node, t in zip(asked, temperatures, strict=True) if t > 0] == sampled


def test_without_agree_candidates_no_candidate_is_sampled():
    report, models = agree([RIGHT, CALL], agree_candidates=1)
    assert report["answer"] == "396" and len(models.maker.prompts) == 2


def checked(reply: str, check: str) -> str:
    """A create reply whose tool comes with one self-check below it."""
    return reply.removesuffix("```\n") + f"{check}\n```\n"


def agreed_state(replies, **context):
    graph = build_creator_graph(models=ScriptedModels(maker=replies), executor=SubprocessExecutor()).compile()
    settings = {"agree_candidates": 3, "general_tools": False, "self_checks": True, **context}
    return graph.invoke(PROBLEM, context=CreatorContext(**settings))


def test_an_outvoted_tools_self_checks_give_way_to_the_winners():
    wrong = checked(WRONG, "assert multiply_add(1, 1, 0) == 1")  # passes for the wrong tool too
    right = checked(RIGHT, "assert multiply_add(2, 3, 4) == 10")
    final = agreed_state([wrong, CALL, right, CALL, right, CALL])
    assert final["answer"] == "396" and final["checks"] == "assert multiply_add(2, 3, 4) == 10"


def test_a_sampled_tool_that_fails_its_own_self_checks_has_no_answer_to_vote_with():
    right = checked(RIGHT, "assert multiply_add(2, 3, 4) == 10")
    wrong = checked(WRONG, "assert multiply_add(2, 3, 4) == 10")  # 2 * (3 + 4) is 14
    final = agreed_state([right, CALL, wrong, CALL, right, CALL])
    assert final["answer"] == "396" and final["candidates"][1]["answer"] is None
    assert "assert multiply_add(2, 3, 4) == 10" in final["candidates"][1]["failure"]
