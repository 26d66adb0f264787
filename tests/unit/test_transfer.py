import json

import pytest

from evaluation import transfer
from evaluation.datasets import Item, TransferGroup
from evaluation.transfer import run_transfer
from graphs.creator import build_creator_graph
from sandbox import SubprocessExecutor
from tests.fakes import ScriptedModels, fenced
from tools_registry.storage import sqlite_registry

DIGITS = '''
def digit_sum_of_power(base: int, exponent: int) -> int:
    """Sum of the decimal digits of base raised to the power exponent."""
    return sum(int(d) for d in str(base ** exponent))
'''
SECONDS = '''
def hours_to_seconds(hours: float) -> float:
    """Number of seconds in a duration given in hours."""
    return hours * 3600
'''


def _group(index: int, questions: list[tuple[str, str]]) -> TransferGroup:
    scenarios = [
        Item(id=f"transfer/{index}/{n}", question=q, answer=a, table="", level="", meta={"group": index})
        for n, (q, a) in enumerate(questions, start=1)
    ]
    return TransferGroup(id=f"transfer/{index}", intro="", reference_tool="", scenarios=scenarios)


GROUPS = [
    _group(0, [("What is the sum of the decimal digits of 2 raised to the power 10?", "7"),
               ("Sum of the decimal digits of 3 raised to the power 5?", "9"),
               ("What is the digit sum of 2 raised to the power 100?", "115")]),
    _group(1, [("How many seconds are in a duration of 2 hours?", "7200"),
               ("A film lasts 1.5 hours. How many seconds is that duration?", "5400"),
               ("How many seconds in a duration of 3 hours?", "10800")]),
]  # fmt: skip


@pytest.fixture(autouse=True)
def tiny_transfer_set(monkeypatch):
    monkeypatch.setattr(transfer, "load_tool_transfer", lambda: GROUPS)


def script():
    """make 1, scratch 2 and 3 (tool + call each), then transfer 2 and 3 (a call each: tool found)."""
    calls = {
        0: [f"print(digit_sum_of_power({b}, {e}))" for b, e in ((2, 10), (3, 5), (2, 100))],
        1: [f"print(hours_to_seconds({h}))" for h in (2, 1.5, 3)],
    }
    replies = []
    for group, tool in ((0, DIGITS), (1, SECONDS)):
        for call in calls[group]:
            replies += [fenced(tool), fenced(call)]
        replies += [fenced(call) for call in calls[group][1:]]
    return replies


def test_tools_made_on_scenario_one_are_found_and_reused_with_reuse_counted(tmp_path):
    models = ScriptedModels(maker=script())

    def build():
        return build_creator_graph(models=models, executor=SubprocessExecutor())

    report = run_transfer(tmp_path, n=2, seed=0, build=build)

    rows = [json.loads(line) for line in (tmp_path / "transfer.jsonl").read_text().splitlines()]
    assert [(r["scenario"], r["arm"]) for r in rows[:5]] == [
        (1, "make"), (2, "scratch"), (3, "scratch"), (2, "transfer"), (3, "transfer")
    ]  # fmt: skip
    assert all(row["correct"] for row in rows) and len(rows) == 10
    made = {row["group"]: row["tool_id"] for row in rows if row["arm"] == "make"}
    assert all(row["reused_tool_id"] == made[row["group"]] for row in rows if row["arm"] == "transfer")
    assert not any(row["reused_tool_id"] for row in rows if row["arm"] != "transfer")
    with sqlite_registry(tmp_path / "transfer-tools.sqlite") as registry:
        assert [registry.stats(tool).uses for tool in made.values()] == [2, 2]
    text = report.read_text()
    assert "| transfer | 2, 3 reusing | 100.0% (4) |" in text
    assert "own group's scenario 1: 100.0% (4)" in text and "reused more than once: 100.0% (2)" in text
    assert "reuses per offered tool: 2.00" in text and "single-use, never offered for reuse: 0" in text
    (tmp_path / "transfer-tools.sqlite").unlink()  # the report is the rows': a clone has no registry
    assert transfer.report_transfer(tmp_path, n=2, seed=0).read_text() == text

    again = run_transfer(tmp_path, n=2, seed=0, build=lambda: build_creator_graph(models=ScriptedModels()))
    assert again.read_text() == text and len((tmp_path / "transfer.jsonl").read_text().splitlines()) == 10


def finished_rows(folder):
    """The rows of a finished two-group run, every tool made, found and right."""
    run_transfer(
        folder,
        n=2,
        seed=0,
        build=lambda: build_creator_graph(
            models=ScriptedModels(maker=script()), executor=SubprocessExecutor()
        ),
    )
    return [json.loads(line) for line in (folder / "transfer.jsonl").read_text().splitlines()]


def test_single_use_tools_are_counted_apart_from_the_tools_offered_for_reuse(tmp_path):
    rows = finished_rows(tmp_path)
    seconds_tool = next(row for row in rows if row["arm"] == "make" and row["group"] == 1)
    seconds_tool["stored_tool"]["single_use"] = "it takes no parameters"  # as if judged so, never found
    for row in rows:
        if row["arm"] == "transfer" and row["group"] == 1:
            row["reused_tool_id"] = None
    (tmp_path / "transfer.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))

    text = transfer.report_transfer(tmp_path, n=2, seed=0).read_text()

    assert "- tools stored: 2 (from 2 scenario-1 runs)" in text
    assert "- ... single-use, never offered for reuse: 1" in text
    assert (
        "- reuses per offered tool: 2.00" in text and "offered tools reused at least once: 100.0% (1)" in text
    )
    assert "own group's scenario 1: 50.0% (4)" in text
    assert "own group's tool was offered for reuse, that reused it: 100.0% (2)" in text


def test_rows_from_before_they_kept_their_tool_say_single_use_is_not_recorded(tmp_path):
    rows = finished_rows(tmp_path)
    (tmp_path / "transfer.jsonl").write_text(
        "".join(json.dumps({**row, "stored_tool": None}) + "\n" for row in rows)
    )

    text = transfer.report_transfer(tmp_path, n=2, seed=0).read_text()

    assert "single-use, never offered for reuse: not recorded" in text and "was offered for reuse" not in text


def test_a_budget_stops_before_the_problem_that_could_pass_it_and_a_rerun_goes_on(tmp_path):
    from evaluation.rows import BudgetReached
    from toolmaker.costs import Budget

    replies = script()

    def build(models):
        return lambda: build_creator_graph(models=models, executor=SubprocessExecutor())

    # 110 tokens a call: make and two scratch runs (2 calls each) spend 660; one more would pass 700.
    with pytest.raises(BudgetReached, match=r"stopped before transfer on transfer/0/2: .*\(660 tokens"):
        run_transfer(
            tmp_path, n=2, seed=0, build=build(ScriptedModels(maker=replies)), budget=Budget(tokens=700)
        )
    rows = [json.loads(line) for line in (tmp_path / "transfer.jsonl").read_text().splitlines()]
    assert [row["arm"] for row in rows] == ["make", "scratch", "scratch"]

    run_transfer(
        tmp_path, n=2, seed=0, build=build(ScriptedModels(maker=replies[6:])), budget=Budget(tokens=5000)
    )
    rows = [json.loads(line) for line in (tmp_path / "transfer.jsonl").read_text().splitlines()]
    assert len(rows) == 10 and all(row["correct"] for row in rows)


def test_a_rerun_drops_a_tool_stored_by_a_scenario_one_run_killed_before_its_row(tmp_path):
    from evaluation.rows import BudgetReached
    from toolmaker.costs import Budget
    from tools_registry import tool_from_source

    replies = script()

    def build(models):
        return lambda: build_creator_graph(models=models, executor=SubprocessExecutor())

    with pytest.raises(BudgetReached):  # make, scratch, scratch: 660 tokens
        run_transfer(
            tmp_path, n=2, seed=0, build=build(ScriptedModels(maker=replies)), budget=Budget(tokens=700)
        )
    with sqlite_registry(tmp_path / "transfer-tools.sqlite") as registry:
        registry.add(tool_from_source('def stray(x):\n    """Seconds, hours, digits."""\n    return x\n'))

    run_transfer(tmp_path, n=2, seed=0, build=build(ScriptedModels(maker=replies[6:])))

    rows = [json.loads(line) for line in (tmp_path / "transfer.jsonl").read_text().splitlines()]
    with sqlite_registry(tmp_path / "transfer-tools.sqlite") as registry:
        assert sorted(record.name for record in registry.records()) == [
            "digit_sum_of_power",
            "hours_to_seconds",
        ]
    assert len(rows) == 10 and all(row["correct"] for row in rows)


def test_a_rerun_without_the_registry_restores_the_made_tools_from_the_rows_or_refuses(tmp_path):
    from evaluation.rows import BenchError
    from toolmaker.costs import Budget

    def build(models):
        return lambda: build_creator_graph(models=models, executor=SubprocessExecutor())

    replies = script()
    clone, old = tmp_path / "clone", tmp_path / "old"
    with pytest.raises(BenchError, match="stopped before transfer"):  # make, scratch, scratch: 660 tokens
        run_transfer(
            clone, n=2, seed=0, build=build(ScriptedModels(maker=replies)), budget=Budget(tokens=700)
        )
    rows = [json.loads(line) for line in (clone / "transfer.jsonl").read_text().splitlines()]
    (clone / "transfer-tools.sqlite").unlink()  # a clone has the rows, not the registry
    old.mkdir()  # rows from before they kept their tool
    (old / "transfer.jsonl").write_text(
        "".join(json.dumps({**row, "stored_tool": None}) + "\n" for row in rows)
    )

    with pytest.raises(BenchError, match=rf"lacks 1 tools .*\(first: {rows[0]['tool_id']}\).*new --out-dir"):
        run_transfer(old, n=2, seed=0, build=build(ScriptedModels()))
    assert len((old / "transfer.jsonl").read_text().splitlines()) == 3

    run_transfer(clone, n=2, seed=0, build=build(ScriptedModels(maker=replies[6:])))
    rows = [json.loads(line) for line in (clone / "transfer.jsonl").read_text().splitlines()]
    assert len(rows) == 10 and all(row["correct"] for row in rows)
    assert [row["reused_tool_id"] for row in rows[3:5]] == [rows[0]["tool_id"]] * 2  # found again


def test_the_report_pairs_transfer_with_scratch_by_item_and_by_group_and_names_its_command(tmp_path):
    outcomes = {  # (scratch, transfer) for scenarios 2 and 3 of each group
        0: [(False, True), (False, True)],  # improved, 2 wins
        1: [(True, False), (True, True)],  # worse, 1 loss
    }
    rows = []
    for group, pairs in outcomes.items():
        for scenario, (scratch, transferred) in enumerate(pairs, start=2):
            for arm, correct in (("scratch", scratch), ("transfer", transferred)):
                rows.append({"id": f"transfer/{group}/{scenario}", "group": group, "arm": arm,
                             "correct": correct, "reused_tool_id": None, "reused_from_problem": None,
                             "tokens": {}, "seconds": 1.0})  # fmt: skip
    for row in rows:  # both groups reuse group 1's tool (groups' scenario 1 texts may be the same)
        if row["arm"] == "transfer":
            row["reused_tool_id"] = "tool-1"
    rows.append(rows[1])  # a row written twice (a rerun's) counts once
    for group, right in ((0, False), (1, True)):  # scenario 1: group 0's tool answered wrong
        rows.append({"id": f"transfer/{group}/1", "group": group, "arm": "make", "correct": right,
                     "tool_id": f"tool-{group}", "reused_tool_id": None, "reused_from_problem": None,
                     "tokens": {}, "seconds": 1.0})  # fmt: skip
    (tmp_path / "transfer.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    command = "toolmaker experiment transfer --n 2 --seed 0 --out-dir x"
    text = transfer.write_transfer_report(tmp_path, GROUPS, command=command).read_text()
    assert f"```\n{command}\n```" in text
    assert "accuracy 50.0% (4) from scratch, 75.0% (4) reusing" in text
    assert "only reusing got right: 2; only from scratch: 1; sign test p = 1.000" in text
    assert "both ways: 2; improved 1, the same 0, worse 1" in text
    assert "| transfer | 2, 3 reusing | 75.0% (4) |" in text  # the arm's table counts the same runs
    assert "| right | 2 | 100.0% (2) | 50.0% (2) | 0 | 1 | 1.000 |" in text
    assert "reused a stored tool: 100.0% (4)" in text and "own group's scenario 1: 50.0% (4)" in text
    assert "| wrong or none | 2 | 0.0% (2) | 100.0% (2) | 2 | 0 | 0.500 |" in text
    assert "![Scenarios 2 and 3, reusing against from scratch](plots/transfer.png)" in text
    assert (tmp_path / "plots" / "transfer.png").stat().st_size > 0


def test_the_command_line_writes_the_command_that_reproduces_the_run_into_the_report(tmp_path, capsys):
    from cli import main

    (tmp_path / "transfer.jsonl").write_text("")
    argv = ["experiment", "transfer", "--report-only", "--n", "2", "--out-dir", str(tmp_path),
            "--prompt-variant", "create=demos"]  # fmt: skip
    assert main(argv) == 0
    expected = (
        f"toolmaker experiment transfer --n 2 --seed 0 --out-dir {tmp_path} --prompt-variant create=demos"
    )
    assert f"```\n{expected}\n```" in capsys.readouterr().out
