import json
import re
import threading
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from evaluation import runner
from evaluation.datasets import BBH_TASKS, Item, sample
from evaluation.report import failure_kind, load_rows, markdown_report
from evaluation.rows import BenchError
from evaluation.runner import regrade, run_bench
from graphs.baselines import build_cot_graph, build_pot_graph, build_pot_vote_graph
from graphs.creator import build_creator_graph
from nodes.common.grading import grade_numeric, grade_rounded
from sandbox import SubprocessExecutor
from tests.fakes import ScriptedChatModel, ScriptedModels, fenced

USAGE = {"input_tokens": 100, "output_tokens": 10, "total_tokens": 110}

TOOL = '''
def difference(a: float, b: float) -> float:
    """How much larger a is than b."""
    return a - b
'''
ITEMS = [
    Item(id="tiny/0", question="How much more is 17 than 15?", answer="2", table="", level="L1", meta={}),
    Item(id="tiny/1", question="How much more is 10 than 4?", answer="6", table="", level="L2", meta={}),
]


@pytest.fixture(autouse=True)
def tiny_dataset(monkeypatch):
    monkeypatch.setitem(runner.DATASETS, "tiny", (lambda: ITEMS, grade_numeric))


def graph_for(replies):
    return build_creator_graph(models=ScriptedModels(maker=replies), executor=SubprocessExecutor()).compile()


def test_rows_are_graded_per_round_and_a_rerun_resumes(tmp_path):
    out = tmp_path / "run.jsonl"
    right_at_once = [fenced(TOOL), fenced("print(difference(17, 15))")]
    after_a_fix = [fenced(TOOL), fenced("print(difference(10))"), fenced("print(difference(10, 4))")]
    replies = right_at_once + after_a_fix
    first, second = run_bench("tiny", "creator", out, graph=graph_for(replies))
    assert (first["prediction"], first["correct"], first["correct_after_round"]["0"]) == ("2", True, True)
    assert (second["prediction"], second["correct"], second["rounds"]) == ("6", True, 1)
    assert second["tool_code"].strip() == TOOL.strip() and second["call"] == "print(difference(10, 4))"
    assert second["attempt_answers"] == [None, "6"]
    assert second["attempt_failures"][0].startswith("Running the call failed with TypeError: difference()")
    assert second["attempt_failures"][1:] == [None] and "\n" not in second["attempt_failures"][0]
    assert second["correct_after_round"] == {"0": False, "1": True, "2": True, "3": True}
    calls = {node: usage["calls"] for node, usage in second["tokens_by_node"].items()}
    assert calls == {"create": 1, "decide": 1, "rectify": 1} and second["tokens"]["maker"]["calls"] == 3
    assert set(second["seconds_by_role"]) == {"maker"} and second["dollars"] == 0.0  # no price table
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["tiny/0", "tiny/1"]
    assert run_bench("tiny", "creator", out, graph=graph_for([])) == []


def test_a_vote_is_its_answer_after_any_number_of_rounds(tmp_path):
    # The last sample is wrong but the majority is right: no round may read the last sample.
    right, wrong = fenced("print(17 - 15)"), fenced("print(32)")
    models = ScriptedModels(maker=[right, right, wrong])
    graph = build_pot_vote_graph(models=models, executor=SubprocessExecutor()).compile()
    (row,) = run_bench("tiny", "pot-vote", tmp_path / "vote.jsonl", graph=graph, n=1, seed=0,
                       item_overrides=lambda item: {"vote_samples": 3})  # fmt: skip
    assert row["id"] == "tiny/0" and row["prediction"] == "2" and row["rounds"] == 0
    assert row["correct_after_round"] == {"0": True, "1": True, "2": True, "3": True}


def test_an_interrupted_run_finishes_only_the_missing_items(tmp_path):
    out = tmp_path / "run.jsonl"
    out.write_text(json.dumps({"id": "tiny/0"}) + "\n")
    (row,) = run_bench(
        "tiny", "creator", out, graph=graph_for([fenced(TOOL), fenced("print(difference(10, 4))")])
    )
    assert row["id"] == "tiny/1" and row["correct"]


def test_a_row_torn_by_a_killed_run_is_cut_off_and_its_item_runs_again(tmp_path):
    out = tmp_path / "run.jsonl"
    out.write_text(json.dumps({"id": "tiny/0"}) + "\n" + '{"id": "tiny/1", "pred')
    (row,) = run_bench(
        "tiny", "creator", out, graph=graph_for([fenced(TOOL), fenced("print(difference(10, 4))")])
    )
    assert row["id"] == "tiny/1" and row["correct"]
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["tiny/0", "tiny/1"]


def test_a_damaged_row_before_the_last_is_named_and_nothing_is_written(tmp_path):
    out = tmp_path / "run.jsonl"
    damaged = '{"id": "tiny/0", "pred\n' + json.dumps({"id": "tiny/1"}) + "\n"
    out.write_text(damaged)
    with pytest.raises(BenchError, match=r"run.jsonl:1: not a results row"):
        run_bench("tiny", "creator", out, graph=graph_for([]))
    assert out.read_text() == damaged


SPREAD = '''
def spread(values: list[int]) -> tuple[int, int]:
    """The least and the greatest of the values."""
    return min(values), max(values)
'''
RANGE_ITEM = Item(id="range/0", question="What is the range of 2, 8 and 5?", answer="6", table="", level="",
                  meta={})  # fmt: skip


def test_tabmwp_problems_are_told_their_answer_is_one_value_and_a_pair_goes_back_to_rectify(
    tmp_path, monkeypatch
):
    monkeypatch.setitem(runner.DATASETS, "tabmwp", (lambda: [RANGE_ITEM], grade_numeric))
    replies = [
        fenced(SPREAD),
        fenced("print(spread([2, 8, 5]))"),
        fenced("low, high = spread([2, 8, 5])\nprint(high - low)"),
    ]
    (row,) = run_bench("tabmwp", "creator", tmp_path / "tabmwp.jsonl", graph=graph_for(replies))
    assert row["attempt_answers"] == [None, "6"] and row["correct"] and row["one_value_answers"] is True
    assert row["attempt_failures"][0].startswith("The code printed several values (`(2, 8)`)")

    # Elsewhere (MATH has ordered pairs) a pair is an answer like any other.
    monkeypatch.setitem(runner.DATASETS, "tiny", (lambda: [RANGE_ITEM], grade_numeric))
    (row,) = run_bench("tiny", "creator", tmp_path / "tiny.jsonl", graph=graph_for(replies[:2]))
    assert row["prediction"] == "(2, 8)" and row["attempt_failures"] == [None]
    assert row["one_value_answers"] is False


def test_report_tables_from_rows(tmp_path):
    rows = [
        {"method": "creator", "dataset": "math", "level": "Level 1", "correct": True, "rounds": 1,
         "correct_after_round": {"0": False, "1": True, "2": True, "3": True}},
        {"method": "creator", "dataset": "math", "level": "Level 2", "correct": False, "rounds": 3,
         "correct_after_round": {"0": False, "1": False, "2": False, "3": False}},
        # Majority vote never rectifies: its answer is its answer after any number of rounds.
        {"method": "pot-vote", "dataset": "math", "level": "Level 1", "correct": True, "rounds": 0,
         "correct_after_round": {"0": False, "1": True, "2": False, "3": False}},
    ]  # fmt: skip
    for row, prediction in zip(rows, ("2", None, "2"), strict=True):
        row |= {"tokens": {"maker": {"input": 100, "output": 20, "calls": 2}}, "seconds": 3.0}
        row["prediction"] = prediction
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    report = markdown_report(load_rows([path]))
    assert "| creator | math | 2 | 1 | 1 | 0 |" in report and "| pot-vote | math | 1 | 0 | 0 | 0 |" in report
    assert "| creator | 50.0% (2) | 2.0 | 120.0 | 3.0 |" in report
    assert "| pot-vote | 100.0% (1) |" in report
    assert "| creator | math | 0.0% | 50.0% | 50.0% | 50.0% |" in report
    assert "| pot-vote | math |" not in report.split("rectification rounds")[1].split("## Misses")[0]
    assert "| creator | math | Level 1 | 100.0% (1) |" in report


@pytest.mark.parametrize(
    "failure, kind",
    [
        ("Running the call failed with TypeError: f() missing 1 required argument", "TypeError (call)"),
        ("Running the tool failed with NameError: name 'symbols' is not defined", "NameError (tool)"),
        ("Running the self-check failed with Timeout: ran past the 5 s limit", "Timeout (self-check)"),
        ("Your own check `assert f(2) == 4` failed. Either the tool ...", "own check failed"),
        ("The code ran without error but printed nothing: the call must print it.", "printed nothing"),
        ("The code printed `None`: the tool probably does not `return` its result", "unusable answer"),
        ("The code printed several values (`(2, 8)`), but the problem asks for one", "several values"),
        ("The decide step's reply held no usable call: the reply held no Python code.", "unreadable reply"),
        ("The last fix changed neither the tool nor the call, so it still fails:", "unchanged fix"),
        ("After the fix there is still no usable tool and call: write both.", "other"),
    ],
)  # fmt: skip
def test_a_failures_kind_is_read_from_its_first_line(failure, kind):
    assert failure_kind(failure) == kind


def test_failure_kinds_match_the_messages_judge_and_the_nodes_write():
    """The kinds are read from text: a reworded message must fail here, not turn into "other"."""
    from nodes.common.asking import unusable_reply
    from nodes.common.judging import judge
    from nodes.creator.rectify import UNCHANGED_FIX
    from sandbox import ExecutionResult

    def ran(stdout="", error=None):
        status = "error" if error else "ok"
        return ExecutionResult(status=status, stdout=stdout, stderr="", error=error, seconds=0.1,
                               backend="test", confinement=[])  # fmt: skip

    type_error = {"type": "TypeError", "message": "f() takes 1 argument", "traceback": "", "file": "main.py"}
    failed_check = {"type": "AssertionError", "message": "", "traceback": "", "file": "checks.py"}
    failures = {
        "TypeError (call)": judge(ran(error=type_error)).failure,
        "own check failed": judge(ran(error=failed_check), "assert f(2) == 4").failure,
        "printed nothing": judge(ran()).failure,
        "unusable answer": judge(ran("None\n")).failure,
        "several values": judge(ran("(2, 8)\n"), one_value=True).failure,
        "no value": judge(ran("[]\n"), one_value=True).failure,
        "unreadable reply": unusable_reply("decide", "call", ValueError("no code"), "Sure!"),
        "unchanged fix": UNCHANGED_FIX,
    }
    assert {kind: failure_kind(failure or "") for kind, failure in failures.items()} == {
        kind: kind for kind in failures
    }


def test_misses_say_how_the_runs_with_no_answer_last_failed(tmp_path):
    def row(prediction, failures, correct=False):
        return {"method": "creator", "dataset": "math", "level": "L1", "correct": correct, "rounds": 1,
                "prediction": prediction, "attempt_failures": failures, "seconds": 1.0,
                "correct_after_round": {str(r): correct for r in range(4)}, "tokens": {}}  # fmt: skip

    type_error = "Running the call failed with TypeError: f() takes 1 positional argument"
    rows = [
        row(None, ["Running the tool failed with NameError: name 'x' is not defined", type_error]),
        row(None, [type_error, type_error]),
        row(None, ["The code ran without error but printed nothing: print it."]),
        row("3", [type_error, None]),  # answered, wrongly: not a no-answer run
        {**row(None, []), "attempt_failures": None},  # made before failures were recorded
        row(None, []),  # chain-of-thought: no code ran
        row("2", [None], correct=True),
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = markdown_report(load_rows([path]))
    why = "TypeError (call) 2, printed nothing 1, no code ran 1 (not recorded in 1)"
    expected = f"| creator | math | 7 | 6 | 5 | 1 | {why} |"
    assert expected in report


def test_report_writes_the_four_plots(tmp_path):
    from evaluation.plots import write_plots

    rows = [
        {"method": m, "dataset": "math", "level": f"Level {i % 2}", "correct": i % 2 == 0,
         "correct_after_round": {"0": False, "1": i % 2 == 0, "2": i % 2 == 0, "3": i % 2 == 0}, "rounds": 1,
         "tokens": {"maker": {"input": 100 * i, "output": 10, "calls": 2}}}
        for m in ("creator", "pot") for i in range(4)
    ]  # fmt: skip
    paths = write_plots(rows, tmp_path / "plots")
    assert [p.name for p in paths] == ["accuracy.png", "rounds.png", "levels.png", "tokens.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 5000 for p in paths)


class SubtractingModel(ScriptedChatModel):
    """Writes the right program for "How much more is A than B?", but only with two others at once."""

    barrier: Any

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.barrier.wait()  # raises BrokenBarrierError unless three requests are in flight together
        a, b = re.findall(r"How much more is (\d+) than (\d+)", str(messages[-1].content))[0]
        message = AIMessage(content=fenced(f"print({a} - {b})"), usage_metadata=USAGE)
        return ChatResult(generations=[ChatGeneration(message=message)])


def test_items_are_solved_concurrently_and_every_row_is_written_once(tmp_path, monkeypatch):
    items = [Item(id=f"many/{i}", question=f"How much more is {10 + i} than {i}?", answer="10", table="",
                  level="", meta={}) for i in range(6)]  # fmt: skip
    monkeypatch.setitem(runner.DATASETS, "many", (lambda: items, grade_numeric))
    model = SubtractingModel(replies=[], barrier=threading.Barrier(3, timeout=20))
    models = ScriptedModels()
    models.maker = model
    graph = build_pot_graph(models=models, executor=SubprocessExecutor()).compile()
    rows = run_bench("many", "pot", tmp_path / "many.jsonl", graph=graph, concurrency=3)
    assert sorted(row["id"] for row in rows) == [item["id"] for item in items] and all(
        r["correct"] for r in rows
    )
    assert len((tmp_path / "many.jsonl").read_text().splitlines()) == 6


@pytest.mark.datasets
def test_latms_six_tasks_are_benchmarks_on_their_240_test_items(tmp_path):
    for task in BBH_TASKS:
        load, grade = runner.DATASETS[f"bbh-{task}"]
        items = load()
        assert len(items) == 240 and items[0]["id"] == f"bbh/{task}/10"
        assert grade(items[0]["answer"], items[0]["answer"]) and not grade(None, items[0]["answer"])
    load, _ = runner.DATASETS["bbh-word_sorting"]
    item = sample(load(), 1, seed=0)[0]
    answer = " ".join(sorted(item["question"].split("List:")[1].split()))
    graph = build_cot_graph(models=ScriptedModels(maker=[f"Sorted.\nAnswer: {answer}"])).compile()
    (row,) = run_bench("bbh-word_sorting", "cot", tmp_path / "sort.jsonl", graph=graph, n=1, seed=0)
    assert row["correct"] and row["gold"] == answer and row["id"] == item["id"]


def test_reports_grade_again_from_the_answers_rows_recorded(monkeypatch):
    monkeypatch.setitem(runner.DATASETS, "tiny", (lambda: ITEMS, grade_rounded))
    fixed_late = {"id": "tiny/0", "dataset": "tiny", "prediction": "2.004", "gold": "2", "correct": False,
                  "rounds": 1, "correct_after_round": {str(r): False for r in range(4)},
                  "answer_after_round": {"0": None, "1": "2.004", "2": "2.004", "3": "2.004"}}  # fmt: skip
    from_before_answers = {k: v for k, v in fixed_late.items() if k != "answer_after_round"}
    elsewhere = {**from_before_answers, "dataset": "not-a-bench-dataset"}
    new, old, kept = regrade([fixed_late, from_before_answers, elsewhere])
    assert new["correct"] and new["correct_after_round"] == {"0": False, "1": True, "2": True, "3": True}
    assert old["correct"] and old["correct_after_round"] == from_before_answers["correct_after_round"]
    assert kept == elsewhere and not fixed_late["correct"]  # the rows read are not changed


def test_rows_of_an_items_file_are_graded_again_without_the_file(tmp_path):
    answers = {"0": None, "1": "notebook."}
    row = {"id": "shop/2", "dataset": str(tmp_path / "gone.jsonl"), "prediction": "notebook.",
           "gold": "Notebook", "correct": False, "answer_after_round": answers}  # fmt: skip
    (regraded,) = regrade([row])
    assert regraded["correct"] and regraded["correct_after_round"] == {"0": False, "1": True}


def test_a_budget_stops_before_an_item_like_the_costliest_would_pass_it_and_a_rerun_goes_on(tmp_path):
    from evaluation.rows import BudgetReached
    from toolmaker.costs import Budget

    out = tmp_path / "run.jsonl"
    first = [fenced(TOOL), fenced("print(difference(17, 15))")]  # 2 calls, 220 tokens
    with pytest.raises(BudgetReached, match="stopped before item tiny/1.*220 tokens"):
        run_bench("tiny", "creator", out, graph=graph_for(first), budget=Budget(tokens=300))
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["tiny/0"]
    with pytest.raises(BudgetReached):  # the rows already written count: 220 + 220 > 400
        run_bench("tiny", "creator", out, graph=graph_for([]), budget=Budget(tokens=400))
    second = [fenced(TOOL), fenced("print(difference(10, 4))")]
    (row,) = run_bench("tiny", "creator", out, graph=graph_for(second), budget=Budget(tokens=440))
    assert row["id"] == "tiny/1" and row["correct"]


def test_bench_budget_on_the_command_line_keeps_the_rows_and_says_how_to_go_on(tmp_path, capsys):
    from cli import main
    from tests.fakes import FakeOpenAIServer

    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n"
                             for i in range(3)))  # fmt: skip
    out = tmp_path / "rows.jsonl"
    # 55 tokens a call: 2 items fit in 120, a third like them would not
    bench = ["bench", "--dataset", str(items), "--method", "pot", "--out", str(out), "--budget", "120"]
    with FakeOpenAIServer([fenced(f"print({i} + 1)") for i in range(3)]) as server:
        code = main([*bench, "--base-url", server.base_url])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1 and len(server.requests) == 2 and "a rerun with a larger --budget goes on" in err
    assert [json.loads(line)["prediction"] for line in out.read_text().splitlines()] == ["1", "2"]
    with pytest.raises(SystemExit):  # not a budget: argparse says what one is
        main(["bench", "--dataset", str(items), "--method", "pot", "--budget", "lots"])
    assert "a budget is a token count" in capsys.readouterr().err


def test_rows_record_whether_the_embedded_servers_prompt_cache_was_on(tmp_path, monkeypatch):
    from toolmaker.settings import get_settings

    replies = [
        fenced(TOOL),
        fenced("print(difference(17, 15))"),
        fenced(TOOL),
        fenced("print(difference(10, 4))"),
    ]
    monkeypatch.setenv("TOOLMAKER_EMBEDDED_PROMPT_CACHE", "off")
    get_settings.cache_clear()
    embedded = run_bench("tiny", "creator", tmp_path / "embedded.jsonl", graph=graph_for(replies), n=1)
    remote = run_bench("tiny", "creator", tmp_path / "remote.jsonl", graph=graph_for(replies), n=1,
                       context_overrides={"maker_base_url": "http://127.0.0.1:9/v1"})  # fmt: skip
    assert embedded[0]["prompt_cache"] is False and remote[0]["prompt_cache"] is None


def test_the_prompt_cache_is_read_from_the_endpoints_of_the_roles_asked_about(monkeypatch):
    from nodes.latm.context import LatmContext
    from toolmaker.settings import get_settings

    monkeypatch.setenv("TOOLMAKER_EMBEDDED_PROMPT_CACHE", "off")
    get_settings.cache_clear()
    remote_maker = LatmContext(maker_base_url="http://127.0.0.1:9/v1")  # the user stays embedded

    assert runner.embedded_prompt_cache(remote_maker, "maker") is None
    assert runner.embedded_prompt_cache(remote_maker, "maker", "user") is False
    assert runner.embedded_prompt_cache(LatmContext(), "maker") is False


@pytest.mark.parametrize(("told", "cache"), [(None, False), ("", False), ("on", True)])
def test_benchmark_commands_turn_the_prompt_cache_off_unless_told_otherwise(
    told, cache, tmp_path, monkeypatch
):
    from cli import main
    from tests.fakes import FakeOpenAIServer
    from toolmaker.settings import get_settings

    if told is None:
        monkeypatch.delenv("TOOLMAKER_EMBEDDED_PROMPT_CACHE")  # set empty for every test, so undone after
    else:
        monkeypatch.setenv("TOOLMAKER_EMBEDDED_PROMPT_CACHE", told)
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"question": "What is 1 + 1?", "answer": "2"}) + "\n")
    bench = ["bench", "--dataset", str(items), "--method", "pot", "--out", str(tmp_path / "rows.jsonl")]
    with FakeOpenAIServer([fenced("print(1 + 1)")]) as server:
        assert main([*bench, "--base-url", server.base_url]) == 0
    assert get_settings().embedded_prompt_cache is cache


def test_a_report_of_methods_that_never_rectified_has_no_rounds_section(tmp_path):
    row = {"method": "cot", "dataset": "math", "level": "Level 1", "correct": True, "rounds": 0,
           "correct_after_round": {"0": True, "1": True, "2": True, "3": True}, "prediction": "2",
           "tokens": {"maker": {"input": 100, "output": 20, "calls": 1}}, "seconds": 3.0}  # fmt: skip
    path = tmp_path / "cot.jsonl"
    path.write_text(json.dumps(row) + "\n")
    report = markdown_report(load_rows([path]))
    assert "| cot | 100.0% (1) |" in report and "## Misses" in report
    assert "rectification rounds" not in report
