"""The worked examples in the demos prompts show what the nodes ask for: general tools that run.

A demonstration that hard-codes its problem's numbers, or whose call does not run, would
teach the model the very thing rectify and the generality judge then reject.
"""

import ast
import re

import pytest

from evaluation.rows import BenchError
from evaluation.runner import for_dataset, run_bench
from prompts import load_prompt, variants
from sandbox import SubprocessExecutor
from tools_registry.analysis import generality_issues

DEMO_VARIANTS = [variant for variant in variants("create") if variant.startswith("demos")]
CODE = re.compile(r"```python\n(.*?)\n```", re.DOTALL)


def examples(node: str, variant: str) -> list[tuple[str, list[str]]]:
    """Each worked example's problem (table included) and its code blocks, in order."""
    text = load_prompt(node, variant).user.safe_substitute({})  # $$ back to $
    shown = text.partition("Now the problem")[0].split("Example problem: ")[1:]
    return [(re.split(r"\nExample (?:tool|call)", part)[0], CODE.findall(part)) for part in shown]


def test_each_dataset_family_has_its_own_create_decide_and_rectify_demos():
    for node in ("create", "decide", "rectify"):
        assert {f"demos-{family}" for family in ("math", "tabmwp", "creation")} <= set(variants(node))
    assert sorted(DEMO_VARIANTS) == ["demos", "demos-creation", "demos-math", "demos-tabmwp"]


@pytest.mark.parametrize("variant", DEMO_VARIANTS)
def test_every_demonstrated_tool_is_general_and_its_demonstrated_call_prints_a_number(variant):
    tools, calls = examples("create", variant), examples("decide", variant)
    assert len(tools) == len(calls) == 3
    executor = SubprocessExecutor()
    for (problem, (tool,)), (same_problem, (call,)) in zip(tools, calls, strict=True):
        assert problem == same_problem
        name = next(node.name for node in ast.parse(tool).body if isinstance(node, ast.FunctionDef))
        assert generality_issues(tool, name, call, problem) == [], (variant, name)
        result = executor.run(f"{tool}\n\n{call}")
        assert result["status"] == "ok", result["error"]
        float(result["stdout"].strip())


FIXED_ANSWERS = {"demos": "25.0", "demos-math": "56", "demos-tabmwp": "6", "demos-creation": "1392.91"}


@pytest.mark.parametrize("variant", [v for v in variants("rectify") if v.startswith("demos")])
def test_the_rectify_demo_fixes_what_went_wrong(variant):
    """The broken code prints the number the example says; the fixed one prints the right answer."""
    ((problem, (tool, call, fixed)),) = examples("rectify", variant)
    text = load_prompt("rectify", variant).user.safe_substitute({})
    printed = re.search(r"What went wrong: the call printed ([\d.]+)", text).group(1)  # type: ignore[union-attr]
    executor = SubprocessExecutor()
    before = executor.run(f"{tool}\n\n{call}")["stdout"].strip()
    after_code = f"{fixed}\n\n{call}" if fixed.startswith("def ") else f"{tool}\n\n{fixed}"
    after = executor.run(after_code)["stdout"].strip()
    assert before == printed and after == FIXED_ANSWERS[variant], (variant, before, after)


def test_one_option_picks_each_familys_variant():
    options = {"create_prompt": "demos-{dataset}", "agree_sampling": "tools", "decide_prompt": "demos"}
    assert for_dataset(options, "math-full") == {**options, "create_prompt": "demos-math"}
    assert for_dataset(options, "creation-utility")["create_prompt"] == "demos-creation"
    assert for_dataset(options, "tabmwp-creator")["create_prompt"] == "demos-tabmwp"
    assert for_dataset(options, "bbh-word_sorting")["create_prompt"] == "demos-bbh"
    assert for_dataset(options, "/data/my_items.jsonl")["create_prompt"] == "demos-my_items"


@pytest.mark.parametrize("dataset", ["bbh-word_sorting", "/data/my_items.jsonl"])
def test_a_family_with_no_such_variant_is_refused_before_any_item_runs(dataset, tmp_path):
    out = tmp_path / "rows.jsonl"
    with pytest.raises(
        BenchError, match=r"no prompt variant 'demos-(bbh|my_items)' for node 'create'.*no item"
    ):
        run_bench(dataset, "creator", out, n=1, context_overrides={"create_prompt": "demos-{dataset}"})
    assert not out.exists()


def test_the_generalize_demos_turn_single_use_tools_into_general_ones_with_the_same_answer():
    text = load_prompt("generalize", "demos").user.safe_substitute({})
    shown = text.partition("Now the problem")[0].split("Example problem: ")[1:]
    assert len(shown) == 2
    executor = SubprocessExecutor()
    for part in shown:
        problem = part.partition("\nExample single-use tool")[0]
        single_use, general, call = CODE.findall(part)
        names = [next(n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef))
                 for code in (single_use, general)]  # fmt: skip
        issues = generality_issues(single_use, names[0], f"print({names[0]}())", problem)
        assert any("no parameters" in issue for issue in issues)
        assert any("hard-codes" in issue for issue in issues), issues
        assert generality_issues(general, names[1], call, problem) == [], names[1]
        before = executor.run(f"{single_use}\n\nprint({names[0]}())")["stdout"]
        assert before == executor.run(f"{general}\n\n{call}")["stdout"] and float(before)
