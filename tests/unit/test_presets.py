import json

import pytest

from evaluation import presets, runner
from evaluation.datasets import Item, sample
from evaluation.presets import Cell, Preset, common_rows, run_preset, write_preset_report
from evaluation.report import sign_test
from evaluation.rows import BenchError
from evaluation.runner import run_bench
from graphs.baselines import build_pot_vote_graph
from graphs.creator import build_creator_graph
from nodes.common.grading import grade_numeric
from prompts import load_prompt
from sandbox import SubprocessExecutor
from tests.fakes import ScriptedModels, fenced

TOOL = '''
def difference(a: float, b: float) -> float:
    """How much larger a is than b."""
    return a - b
'''


def _items(name: str, pairs: list[tuple[int, int]]) -> list[Item]:
    return [
        Item(id=f"{name}/{i}", question=f"How much more is {a} than {b}?", answer=str(a - b), table="",
             level="L1", meta={})
        for i, (a, b) in enumerate(pairs)
    ]  # fmt: skip


ALPHA = _items("alpha", [(17, 15), (10, 4), (9, 1)])
BETA = _items("beta", [(30, 5), (8, 8), (7, 2)])
PRESET = Preset(
    "tiny",
    "Two methods on two tiny datasets",
    ("alpha", "beta"),
    (Cell("creator"), Cell("pot-vote", matched_to="creator")),
    (("creator", "pot-vote"),),
)


@pytest.fixture(autouse=True)
def tiny_datasets(monkeypatch):
    monkeypatch.setitem(runner.DATASETS, "alpha", (lambda: ALPHA, grade_numeric))
    monkeypatch.setitem(runner.DATASETS, "beta", (lambda: BETA, grade_numeric))


def creator_replies(order):
    """Tool and call for each item, the second item of every dataset after one failed call."""
    replies = []
    for item in order:
        a, b = (int(word) for word in item["question"].rstrip("?").split() if word.isdigit())
        if item["id"].endswith("/1"):
            replies += [
                fenced(TOOL),
                fenced(f"print(difference({a}))"),
                fenced(f"print(difference({a}, {b}))"),
            ]
        else:
            replies += [fenced(TOOL), fenced(f"print(difference({a}, {b}))")]
    return replies


def test_cells_grow_together_and_vote_gets_creators_calls_item_by_item(tmp_path):
    # steps of one item: alpha/0, beta/0, then alpha/1, beta/1 (file order of the 2 drawn)
    chosen = {d: [item for item in items if item["id"] in {r["id"] for r in sample(items, 2, 0)}]
              for d, items in (("alpha", ALPHA), ("beta", BETA))}  # fmt: skip
    order = [chosen["alpha"][0], chosen["beta"][0], chosen["alpha"][1], chosen["beta"][1]]
    creator = build_creator_graph(
        models=ScriptedModels(maker=creator_replies(order)), executor=SubprocessExecutor()
    )
    calls = [3 if item["id"].endswith("/1") else 2 for item in order]
    votes = [
        fenced(f"print({item['answer']})")
        for item, count in zip(order, calls, strict=True)
        for _ in range(count)
    ]
    vote = build_pot_vote_graph(models=ScriptedModels(maker=votes), executor=SubprocessExecutor())
    graphs = {"creator": creator.compile(), "pot-vote": vote.compile()}

    report = run_preset(
        PRESET, tmp_path, n=2, step=1, seed=0, graphs=graphs, command="toolmaker experiment tiny"
    )

    for dataset in ("alpha", "beta"):
        creator_rows = [
            json.loads(line) for line in (tmp_path / f"creator-{dataset}.jsonl").read_text().splitlines()
        ]
        vote_rows = [
            json.loads(line) for line in (tmp_path / f"pot-vote-{dataset}.jsonl").read_text().splitlines()
        ]
        assert (
            [r["id"] for r in creator_rows]
            == [r["id"] for r in vote_rows]
            == [i["id"] for i in chosen[dataset]]
        )
        assert [r["tokens"]["maker"]["calls"] for r in vote_rows] == [
            r["tokens"]["maker"]["calls"] for r in creator_rows
        ]
        assert all(r["correct"] for r in creator_rows + vote_rows)
    text = report.read_text()
    assert report.name == "tiny.md" and "toolmaker experiment tiny" in text
    assert "alpha 2, beta 2" in text and "| creator | 100.0% (2) | 100.0% (2) |" in text
    assert "| creator | pot-vote | all | 4 | 0 | 0 | 1.000 |" in text
    assert (tmp_path / "plots" / "tiny" / "accuracy.png").is_file()


def test_report_compares_methods_only_on_items_all_of_them_finished(tmp_path):
    def write(method, ids):
        rows = [{"id": i, "method": method, "dataset": "alpha", "level": "L1", "correct": True,
                 "prediction": "1", "gold": "1", "correct_after_round": {str(r): True for r in range(4)},
                 "seconds": 1.0, "rounds": 0, "code": "aaa" if method == "creator" else "bbb",
                 "tokens": {"maker": {"input": 10, "output": 5, "calls": 2}}} for i in ids]  # fmt: skip
        (tmp_path / f"{method}-alpha.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    write("creator", ["alpha/0", "alpha/1", "alpha/2"])
    write("pot-vote", ["alpha/0", "alpha/2", "alpha/9"])  # alpha/9: not among the drawn items
    preset = Preset("one", "One dataset", ("alpha",), PRESET.cells)
    rows = common_rows(preset, tmp_path, n=3, seed=0)
    assert sorted((r["method"], r["id"]) for r in rows) == [
        ("creator", "alpha/0"), ("creator", "alpha/2"), ("pot-vote", "alpha/0"), ("pot-vote", "alpha/2")
    ]  # fmt: skip
    text = write_preset_report(preset, tmp_path, n=3, seed=0).read_text()
    assert "alpha 2." in text and "| pot-vote | 100.0% (2) | 2.0 | 15.0 | 1.0 |" in text
    assert "rows by the commit that made them: aaa 2, bbb 2." in text
    assert "one_value_answers" not in text


def test_the_report_says_when_a_datasets_rows_were_judged_both_with_and_without_one_value_answers(tmp_path):
    def write(method, told):
        rows = [{"id": f"alpha/{i}", "method": method, "dataset": "alpha", "level": "L1", "correct": True,
                 "prediction": "1", "gold": "1", "seconds": 1.0, "rounds": 0, "tokens": {},
                 **({"one_value_answers": told[i]} if told[i] is not None else {})}
                for i in range(3)]  # fmt: skip
        (tmp_path / f"{method}-alpha.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    write("creator", [True, True, True])
    write("pot-vote", [None, True, False])  # None: a row from before the setting was recorded
    preset = Preset("one", "One dataset", ("alpha",), PRESET.cells)

    text = write_preset_report(preset, tmp_path, n=3, seed=0).read_text()

    assert "On alpha, 4 of 6 rows were judged with `one_value_answers`" in text


def test_only_some_columns_grow_with_those_they_are_matched_to_and_the_report_names_the_rest():
    three = Preset("three", "Three columns", ("alpha",), (*PRESET.cells, Cell("pot-rectify")),
                   (("creator", "pot-vote"), ("creator", "pot-rectify")))  # fmt: skip

    vote = three.only(["pot-vote"])
    rectify = three.only(["pot-rectify"])

    assert [cell.name for cell in vote.cells] == ["creator", "pot-vote"]
    assert vote.comparisons == (("creator", "pot-vote"),)
    assert [cell.name for cell in rectify.cells] == ["pot-rectify"] and rectify.comparisons == ()
    with pytest.raises(ValueError, match="no column entangled; its columns: creator, pot-vote, pot-rectify"):
        three.only(["entangled"])


def test_a_run_of_one_column_reports_it_and_names_the_columns_left_out(tmp_path):
    chosen = {d: sample(items, 2, 0) for d, items in (("alpha", ALPHA), ("beta", BETA))}
    order = sorted(chosen["alpha"], key=ALPHA.index) + sorted(chosen["beta"], key=BETA.index)
    creator = build_creator_graph(
        models=ScriptedModels(maker=creator_replies(order)), executor=SubprocessExecutor()
    )

    report = run_preset(
        PRESET, tmp_path, n=2, step=2, seed=0, graphs={"creator": creator.compile()}, columns=["creator"]
    )

    assert not list(tmp_path.glob("pot-vote-*.jsonl"))
    text = report.read_text()
    assert "Columns left out, with no rows here (or none in the column matched to): pot-vote." in text
    assert "alpha 2, beta 2" in text and "| creator | 100.0% (2) | 100.0% (2) |" in text


def test_a_vote_whose_matched_column_has_no_rows_is_left_out_of_the_report(tmp_path):
    row = {"id": "alpha/0", "method": "pot-vote", "dataset": "alpha", "level": "L1", "correct": True,
           "prediction": "1", "gold": "1", "seconds": 1.0, "rounds": 0, "tokens": {}}  # fmt: skip
    (tmp_path / "pot-vote-alpha.jsonl").write_text(json.dumps(row) + "\n")

    text = write_preset_report(PRESET, tmp_path, n=1, seed=0).read_text()

    assert "left out, with no rows here (or none in the column matched to): creator, pot-vote." in text


def test_the_same_items_in_two_datasets_are_compared_per_column_item_by_item(tmp_path):
    twins = Preset("hinted", "Alpha with and without a hint", ("alpha", "alpha-hinted"), (Cell("creator"),),
                   dataset_comparisons=(("alpha-hinted", "alpha"),))  # fmt: skip
    for dataset, verdicts in (("alpha", [False, False, True]), ("alpha-hinted", [True, True, True])):
        rows = [{"id": f"alpha/{i}", "method": "creator", "dataset": dataset, "level": "L1", "correct": right,
                 "prediction": "1" if right else "2", "gold": "1", "seconds": 1.0, "rounds": 0, "tokens": {}}
                for i, right in enumerate(verdicts)]  # fmt: skip
        (tmp_path / f"creator-{dataset}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(runner.DATASETS, "alpha-hinted", (lambda: ALPHA, grade_numeric))
        text = write_preset_report(twins, tmp_path, n=3, seed=0).read_text()

    assert "| creator | alpha-hinted | alpha | 3 | 2 | 0 | 0.500 |" in text
    with pytest.raises(ValueError, match="dataset comparisons name no dataset"):
        Preset("odd", "", ("alpha",), (Cell("creator"),), dataset_comparisons=(("beta", "alpha"),))


def test_vote_without_a_run_to_match_stops_with_a_clear_error(tmp_path):
    vote = build_pot_vote_graph(models=ScriptedModels(maker=[]), executor=SubprocessExecutor()).compile()
    with pytest.raises(BenchError, match="run the method to match on it first"):
        run_bench("alpha", "pot-vote", tmp_path / "v.jsonl", graph=vote,
                  item_overrides=runner.matching_calls(tmp_path / "missing.jsonl"))  # fmt: skip
    assert not (tmp_path / "v.jsonl").exists() or not (tmp_path / "v.jsonl").read_text()


def test_rows_of_another_model_are_never_mixed_into_a_file(tmp_path):
    out = tmp_path / "creator-alpha.jsonl"
    out.write_text(json.dumps({"id": "alpha/0", "model": "gpt-4o-mini"}) + "\n")
    with pytest.raises(BenchError, match="gpt-4o-mini"):
        run_bench("alpha", "creator", out, graph=build_creator_graph(models=ScriptedModels()).compile())
    assert out.read_text().count("\n") == 1


def test_the_shipped_presets_run_vote_after_the_column_it_is_matched_to_and_compare_their_own_columns():
    for preset in presets.PRESETS.values():
        names = [cell.name for cell in preset.cells]
        assert len(set(names)) == len(names)
        for index, cell in enumerate(preset.cells):
            assert cell.method in runner.METHODS
            if cell.matched_to is not None:
                assert cell.method == "pot-vote" and cell.matched_to in names[:index]
        assert set(preset.datasets) <= set(runner.DATASETS)
        assert {name for pair in preset.comparisons for name in pair} <= set(names)
        for cell, dataset in ((cell, dataset) for cell in preset.cells for dataset in preset.datasets):
            for field, variant in runner.for_dataset(dict(cell.context), dataset).items():
                if field.endswith("_prompt"):
                    load_prompt(field.removesuffix("_prompt"), variant)  # a missing variant raises


def test_two_columns_of_one_method_keep_their_own_files_rows_and_matching(tmp_path):
    """Vote matched to two CREATOR columns: each gets that column's calls, and the report keeps them apart."""
    item = sample(ALPHA, 1, 0)[0]
    a, b = (int(word) for word in item["question"].rstrip("?").split() if word.isdigit())
    good, bad = fenced(f"print(difference({a}, {b}))"), fenced(f"print(difference({b}, {a}))")
    preset = Preset(
        "two",
        "Vote matched to two columns",
        ("alpha",),
        (
            Cell("creator", "quick"),
            Cell("creator", "slow"),
            Cell("pot-vote", "vote-vs-quick", matched_to="quick"),
            Cell("pot-vote", "vote-vs-slow", matched_to="slow"),
        ),
        (("slow", "vote-vs-slow"),),
    )
    graphs = {
        "quick": build_creator_graph(
            models=ScriptedModels(maker=[fenced(TOOL), good]), executor=SubprocessExecutor()
        ).compile(),
        # one failed call, then the right one: three calls
        "slow": build_creator_graph(
            models=ScriptedModels(maker=[fenced(TOOL), fenced(f"print(difference({a}))"), good]),
            executor=SubprocessExecutor(),
        ).compile(),
        "vote-vs-quick": build_pot_vote_graph(
            models=ScriptedModels(maker=[bad, bad]), executor=SubprocessExecutor()
        ).compile(),
        "vote-vs-slow": build_pot_vote_graph(
            models=ScriptedModels(maker=[bad, bad, bad]), executor=SubprocessExecutor()
        ).compile(),
    }
    text = run_preset(preset, tmp_path, n=1, step=1, seed=0, graphs=graphs).read_text()

    def calls(name):
        (row,) = [json.loads(line) for line in (tmp_path / f"{name}-alpha.jsonl").read_text().splitlines()]
        return row["tokens"]["maker"]["calls"]

    assert [calls(name) for name in ("quick", "slow", "vote-vs-quick", "vote-vs-slow")] == [2, 3, 2, 3]
    assert "| vote-vs-quick | 0.0% (1) |" in text and "| slow | 100.0% (1) |" in text
    assert "| slow | vote-vs-slow | alpha | 1 | 1 | 0 | 1.000 |" in text


def test_sign_test_is_the_exact_two_sided_binomial():
    assert sign_test(0, 0) == 1.0
    assert sign_test(5, 0) == sign_test(0, 5) == 2 / 32
    assert sign_test(8, 2) == 2 * (1 + 10 + 45) / 1024
    assert sign_test(3, 3) == 1.0


def test_a_dead_endpoint_stops_the_run_without_a_row_so_a_rerun_retries_the_item(tmp_path):
    out = tmp_path / "creator-alpha.jsonl"
    dead = {"maker_model": "some-model", "maker_base_url": "http://127.0.0.1:9/v1"}
    with pytest.raises(BenchError, match="alpha/0"):
        run_bench("alpha", "creator", out, context_overrides=dead)
    assert not out.exists()


@pytest.mark.parametrize(
    ("cells", "comparisons", "complaint"),
    [
        ((Cell("pot-vote"), Cell("pot-vote")), (), "share a label"),
        ((Cell("pot-vote", matched_to="creator"), Cell("creator")), (), "matched to no column before it"),
        ((Cell("creator"),), (("creator", "pot"),), "name no column"),
    ],
)
def test_a_preset_whose_columns_share_a_file_or_name_missing_ones_is_refused(cells, comparisons, complaint):
    with pytest.raises(ValueError, match=complaint):
        Preset("bad", "A bad preset", ("alpha",), cells, comparisons)


def test_a_columns_own_configuration_and_a_prompt_per_dataset_reach_its_runs(tmp_path):
    """One column gives up after a failed call (its own context); each dataset gets its own create prompt."""
    for dataset in ("alpha", "beta"):
        (tmp_path / f"{dataset}.md").write_text(
            f"## system\nTools for {dataset}.\n## user\n$problem\n$table\n"
        )
    item = sample(ALPHA, 1, 0)[0]
    a, b = (int(word) for word in item["question"].rstrip("?").split() if word.isdigit())
    failed_then_fixed = [
        fenced(TOOL),
        fenced(f"print(difference({a}))"),
        fenced(f"print(difference({a}, {b}))"),
    ]
    preset = Preset(
        "own", "Own configuration per column", ("alpha",),
        (Cell("creator", "patient"), Cell("creator", "hasty", context={"max_rectify_rounds": 0})),
    )  # fmt: skip
    models = {name: ScriptedModels(maker=failed_then_fixed) for name in ("patient", "hasty")}
    graphs = {
        name: build_creator_graph(models=scripted, executor=SubprocessExecutor()).compile()
        for name, scripted in models.items()
    }
    every_dataset = {"create_prompt": str(tmp_path / "{dataset}.md")}
    run_preset(preset, tmp_path, n=1, step=1, seed=0, graphs=graphs, context_overrides=every_dataset)

    def row(name):
        (found,) = [json.loads(line) for line in (tmp_path / f"{name}-alpha.jsonl").read_text().splitlines()]
        return found

    assert row("patient")["correct"] and not row("hasty")["correct"]
    assert row("hasty")["status"] == "failed" and row("hasty")["tokens"]["maker"]["calls"] == 2
    assert row("patient")["prompts"] == {"create": str(tmp_path / "alpha.md")}
    assert models["patient"].maker.prompts[0][0].content == "Tools for alpha."


def test_the_report_counts_rows_by_prompt_cache_when_they_differ(tmp_path):
    def write(method, caches):
        rows = [{"id": f"alpha/{i}", "method": method, "dataset": "alpha", "level": "L1", "correct": True,
                 "prediction": "1", "gold": "1", "seconds": 1.0, "rounds": 0, "tokens": {},
                 **({} if cache == "absent" else {"prompt_cache": cache})}
                for i, cache in enumerate(caches)]  # fmt: skip
        (tmp_path / f"{method}-alpha.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    preset = Preset("one", "One dataset", ("alpha",), PRESET.cells)
    write("creator", [False, False, False])
    write("pot-vote", [False, False, False])
    assert "prompt cache" not in write_preset_report(preset, tmp_path, n=3, seed=0).read_text()

    write("pot-vote", [True, "absent", None])
    text = write_preset_report(preset, tmp_path, n=3, seed=0).read_text()
    assert (
        "Rows by the embedded server's prompt cache: off 3, on 1, not recorded 1, no embedded server 1."
        in text
    )
