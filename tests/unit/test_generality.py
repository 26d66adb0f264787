"""General tools only in the cache: judged from the code and the call; CREATOR asks once for one."""

import pytest
from langgraph.store.memory import InMemoryStore

from graphs.creator import build_creator_graph
from graphs.running import solve
from nodes import CreatorContext
from sandbox import SubprocessExecutor
from tests.fakes import ScriptedModels, fenced
from tools_registry import ToolRegistry, tool_from_source
from tools_registry.analysis import call_binding, generality_issues
from tools_registry.langchain_tools import as_langchain_tools

PROBLEM = "What is 17 * 23 + 5?"
CONSTANT = '''
def compute_expression() -> int:
    """Compute the expression."""
    return 17 * 23 + 5
'''
HALF_GENERAL = '''
def times_23_plus_5(a: int) -> int:
    """a * 23 + 5."""
    return a * 23 + 5
'''
NOTED = """
def f(a, b, c):
    '''a * b + c, to 17 places.'''
    "f(17, 23, 5) == 396"
    return f"{a * b + c:>17.5f}"
"""
GENERAL = '''
def multiply_then_add(a: int, b: int, c: int) -> int:
    """a * b + c: a product plus an offset."""
    return a * b + c
'''


@pytest.mark.parametrize(
    "code, name, call, issues",
    [
        (CONSTANT, "compute_expression", "print(compute_expression())",
         ["it takes no parameters", "its body hard-codes the problem's own numbers (5, 17, 23)"]),
        (HALF_GENERAL, "times_23_plus_5", "print(times_23_plus_5(17))",
         ["its body hard-codes the problem's own numbers (5, 23)"]),
        (GENERAL, "multiply_then_add", "print(multiply_then_add(17, 23, 5))", []),
        (GENERAL, "multiply_then_add", "print(17 * 23 + 5)", ["the call does not call multiply_then_add"]),
        ("def f(a, b=17):\n    return 4\n", "f", "print(f(3))",
         ["it never uses its parameters (a, b)", "its body hard-codes the problem's own numbers (17)"]),
        ("def percent(x, p):\n    return x * p / 100\n", "percent", "print(percent(50, 10))", []),
        # The problem's numbers inside string values are hard-coded too, '5,23' read both ways;
        # not those of an f-string's format spec, nor of a string standing alone as a note.
        ("def f(a, b):\n    return a == '17' and str(b) in '5,23'\n", "f", "print(f(17, 23))",
         ["its body hard-codes the problem's own numbers (5, 17, 23)"]),
        ("def f(a, b, c):\n    return f'{a * b + c:.5f} (17 x 23)'\n", "f", "print(f(17, 23, 5))",
         ["its body hard-codes the problem's own numbers (17, 23)"]),
        (NOTED, "f", "print(f(17, 23, 5))", []),
        # Outside the entry function too: a module constant or a helper holding the problem's numbers.
        ("TABLE = {'a': 17, 'b': 23}\n\ndef f(key, c):\n    return TABLE[key] + c\n", "f",
         "print(f('a', 5))", ["its body hard-codes the problem's own numbers (17, 23)"]),
        ("def _times(a):\n    return a * 23\n\ndef f(a, c):\n    return _times(a) + c\n", "f",
         "print(f(17, 5))", ["its body hard-codes the problem's own numbers (23)"]),
    ],
)  # fmt: skip
def test_the_judge_names_each_way_a_tool_is_not_general(code, name, call, issues):
    problem = "What is 10% of 50?" if name == "percent" else PROBLEM
    assert generality_issues(code, name, call, problem) == issues


@pytest.mark.parametrize(
    "problem, code, hard_coded",
    [
        ("Is the point (3,4) on the unit circle?", "def f(x, y):\n    return x * 3 + y * 4 == 1\n", "3, 4"),
        ("What is .5 of 80?", "def f(x):\n    return x * .5\n", "0.5"),
    ],
)
def test_the_problems_numbers_are_read_as_a_list_too_and_with_a_leading_point(problem, code, hard_coded):
    issues = generality_issues(code, "f", "print(f(3, 4))", problem)
    assert issues == [f"its body hard-codes the problem's own numbers ({hard_coded})"]


def rewrite(tool, call):
    """A rectify reply: the new tool, then the new call, each in its own block."""
    return fenced(tool) + "\n" + fenced(f"print({call})")


def after_a_constant_tool(tool, call):
    """The replies of a run whose first tool takes no parameters, then its rewrite as asked."""
    return [fenced(CONSTANT), fenced("print(compute_expression())"), rewrite(tool, call)]


def run(replies, store, **context):
    models = ScriptedModels(maker=replies)
    graph = build_creator_graph(models=models, executor=SubprocessExecutor()).compile(store=store)
    return solve(graph, {"problem": PROBLEM}, CreatorContext(**context)), models


def test_a_rewrite_in_one_block_with_its_call_below_the_tool_takes_that_call():
    """What the embedded 1.5B wrote when asked for a general version; the old call cannot call it."""
    one_block = fenced(GENERAL + "\n\nprint(multiply_then_add(17, 23, 5))")
    replies = [fenced(CONSTANT), fenced("print(compute_expression())"), "The call is wrong." + one_block]
    report, _ = run(replies, InMemoryStore())
    assert report["status"] == "solved" and report["answer"] == "396" and report["generality"] == []
    assert report["attempts"][-1]["call"] == "print(multiply_then_add(17, 23, 5))"


SIGNATURES = """
def only_first(a, /, b): ...
def with_defaults(a, b=2, *, c, d=4): ...
def anything(*values, **options): ...
def twice(a, a): ...
"""


@pytest.mark.parametrize(
    ("call", "name", "binding"),
    [
        ("print(multiply_then_add(17, 23, 5))", "multiply_then_add", "binds"),
        ("print(multiply_then_add(a=17, b=23, c=5))", "multiply_then_add", "binds"),
        ("print(multiply_then_add(17, 23))", "multiply_then_add", "fails"),
        ("print(multiply_then_add(17, 23, offset=5))", "multiply_then_add", "fails"),
        ("print(multiply_then_add(17, 23, c=5, c=6))", "multiply_then_add", "fails"),
        ("print(multiply_then_add(*values))", "multiply_then_add", "binds"),
        ("print(17 * 23 + 5)", "multiply_then_add", "no call"),
        ("print(sum(map(multiply_then_add, [1], [2], [3])))", "multiply_then_add", "binds"),
        ("print(only_first(1, b=2))", "only_first", "binds"),
        ("print(only_first(a=1, b=2))", "only_first", "fails"),
        ("print(with_defaults(1, c=3))", "with_defaults", "binds"),
        ("print(with_defaults(1, 2, 3))", "with_defaults", "fails"),
        ("print(anything(1, 2, x=3))", "anything", "binds"),
        ("print(twice(1, 2))", "twice", "fails"),
    ],
)
def test_a_calls_binding_to_a_tool_is_read_from_the_tools_signature(call, name, binding):
    assert call_binding(call, GENERAL + SIGNATURES, name) == binding


WIDER = GENERAL.replace("multiply_then_add", "times_23_plus_5")


def test_a_fix_that_changes_the_parameters_gets_its_call_from_decide_when_the_example_uses_made_up_values():
    """The demo call (4, 7, 9) is not this problem's, and the old call no longer fits: decide writes one."""
    replies = [
        fenced(HALF_GENERAL.replace("a * 23 + 5", "a * 23 + five")),
        fenced("print(times_23_plus_5(17))"),
        "The tool should take all three numbers." + fenced(WIDER + "\nprint(times_23_plus_5(4, 7, 9))"),
        fenced("print(times_23_plus_5(17, 23, 5))"),
    ]
    report, models = run(replies, InMemoryStore(), general_tools=False)
    first_try, fixed = report["attempts"]
    assert "NameError" in first_try["failure"]
    assert fixed["fixed"] == "tool" and fixed["call"] == "print(times_23_plus_5(17, 23, 5))"
    assert report["answer"] == "396" and report["rounds"] == 1
    assert [call["node"] for call in report["model_calls"]] == ["create", "decide", "rectify", "decide"]
    assert "times_23_plus_5(a: int, b: int, c: int) -> int" in models.maker.prompts[3][-1].content


def test_a_fix_with_statements_that_never_call_the_tool_keeps_the_fixed_tool_and_decide_calls_it():
    """Before, a widened tool with a stray statement under it was thrown away as an unusable reply."""
    narrow = GENERAL.replace("b: int, c: int", "b: int").replace("a * b + c", "a * b + five")
    replies = [
        fenced(narrow),
        fenced("print(multiply_then_add(17, 23))"),
        "The tool needs the offset." + fenced(GENERAL + '\nprint("done")'),
        fenced("print(multiply_then_add(17, 23, 5))"),
    ]
    report, _ = run(replies, InMemoryStore(), general_tools=False)
    first_try, widened = report["attempts"]
    assert "NameError" in first_try["failure"]
    assert widened["fixed"] == "tool" and widened["tool_code"].strip() == GENERAL.strip()
    assert widened["call"] == "print(multiply_then_add(17, 23, 5))" and report["answer"] == "396"


def test_a_fix_that_keeps_the_parameters_runs_the_call_it_has_without_asking_decide():
    replies = [
        fenced(GENERAL.replace("a * b + c", "a * b + d")),
        fenced("print(multiply_then_add(17, 23, 5))"),
        "Use c." + fenced(GENERAL),
    ]
    report, _ = run(replies, InMemoryStore(), general_tools=False)
    assert [call["node"] for call in report["model_calls"]] == ["create", "decide", "rectify"]
    assert (
        report["answer"] == "396" and report["attempts"][-1]["call"] == "print(multiply_then_add(17, 23, 5))"
    )


def test_a_general_version_without_a_call_gets_one_from_decide():
    """Seen on the embedded 1.5B: a general version came back alone, and the old call failed on it."""
    replies = [fenced(CONSTANT), fenced("print(compute_expression())"), fenced(GENERAL)]
    replies.append(fenced("print(multiply_then_add(17, 23, 5))"))
    report, _ = run(replies, InMemoryStore())
    assert report["general_version"] == "general" and report["answer"] == "396"
    assert report["call"] == "print(multiply_then_add(17, 23, 5))" and report["rounds"] == 1


def test_a_rewrite_that_drops_the_import_lines_of_the_tool_it_rewrites_gets_them_back():
    """Seen on the embedded 1.5B: a sympy tool's general version lost its import and failed (NameError)."""
    with_import = "from operator import add, mul\n" + CONSTANT.replace("17 * 23 + 5", "add(mul(17, 23), 5)")
    general = GENERAL.replace("a * b + c", "add(mul(a, b), c)")
    replies = [
        fenced(with_import),
        fenced("print(compute_expression())"),
        rewrite(general, "multiply_then_add(17, 23, 5)"),
    ]
    report, _ = run(replies, InMemoryStore())
    assert report["general_version"] == "general" and report["answer"] == "396"
    assert report["tool"]["code"] == "from operator import add, mul\n\n" + general.strip() + "\n"
    assert [attempt["failure"] for attempt in report["attempts"]] == [None, None]


def test_an_unchanged_rewrite_without_its_imports_is_still_unchanged():
    with_import = "import math\n\n" + GENERAL.replace("a * b + c", "math.fsum([a * b, c])")
    replies = [
        fenced(with_import),
        fenced("print(multiply_then_add(17, 23))"),
        "Same tool." + fenced(with_import.removeprefix("import math\n\n")),
    ]
    report, _ = run(replies, InMemoryStore(), max_rectify_rounds=1)
    assert report["status"] == "failed" and report["attempts"][-1]["fixed"] == "none"
    assert "changed neither the tool nor the call" in (report["attempts"][-1]["failure"] or "")


def test_a_general_version_that_answers_otherwise_gives_the_first_answer_back_and_stays_single_use():
    store = InMemoryStore()
    replies = after_a_constant_tool(
        GENERAL.replace("a * b + c", "a * (b + c)"), "multiply_then_add(17, 23, 5)"
    )
    report, _ = run(replies, store)
    assert report["attempts"][-1]["answer"] == "476"  # the general version ran, and disagreed
    assert (
        report["answer"] == "396"
        and report["status"] == "solved"
        and report["tool"]["name"] == "compute_expression"
    )
    assert report["generality"] == report["generality_before"] != []
    assert report["general_version"] == "answered otherwise"
    assert ToolRegistry(store).get(report["tool_id"]).single_use


def test_a_tool_that_is_not_general_is_asked_for_once_and_its_general_version_is_cached():
    store = InMemoryStore()
    replies = after_a_constant_tool(GENERAL, "multiply_then_add(17, 23, 5)")
    report, models = run(replies, store)
    assert report["answer"] == "396" and report["status"] == "solved" and report["rounds"] == 1
    assert report["generality_before"][0] == "it takes no parameters" and report["generality"] == []
    assert report["general_version"] == "general"
    asked = models.maker.prompts[2][-1].content
    assert "the tool is not general: it takes no parameters" in asked
    assert "Write the general version" in asked and "Find the mistake" not in asked  # generalize, not rectify
    record = ToolRegistry(store).get(report["tool_id"])
    assert record.name == "multiply_then_add" and record.single_use is None
    assert [r.name for r, _ in ToolRegistry(store).search("a product plus an offset")] == [
        "multiply_then_add"
    ]


def test_a_tool_still_not_general_answers_but_is_single_use_and_never_offered():
    store = InMemoryStore()
    replies = after_a_constant_tool(HALF_GENERAL, "times_23_plus_5(17)")
    report, _ = run(replies, store)
    assert report["answer"] == "396" and report["generality"] == [
        "its body hard-codes the problem's own numbers (5, 23)"
    ]
    assert report["general_version"] == "still single-use"
    registry = ToolRegistry(store)
    record = registry.get(report["tool_id"])
    assert record.single_use == "its body hard-codes the problem's own numbers (5, 23)"
    assert registry.search("times 23 plus 5") == [] and as_langchain_tools(registry) == []


def test_a_general_version_that_fails_gives_back_the_answer_it_replaced():
    store = InMemoryStore()
    broken = GENERAL.replace("a * b + c", "a * b + d")
    replies = after_a_constant_tool(broken, "multiply_then_add(17, 23, 5)")
    report, _ = run(replies, store)
    assert report["status"] == "solved" and report["answer"] == "396"
    assert report["tool"]["name"] == "compute_expression" and report["call"] == "print(compute_expression())"
    assert report["generality"] == report["generality_before"] and report["generality"]
    assert "NameError" in (report["attempts"][-1]["failure"] or "")
    assert report["general_version"] == "failed"
    assert ToolRegistry(store).get(report["tool_id"]).single_use


def test_without_general_tools_the_run_keeps_its_tool_but_it_is_still_judged_single_use():
    store = InMemoryStore()
    report, models = run(
        [fenced(CONSTANT), fenced("print(compute_expression())")], store, general_tools=False
    )
    assert report["answer"] == "396" and report["rounds"] == 0 and len(models.maker.prompts) == 2
    assert report["generality_before"] == report["generality"] and report["generality"]
    assert report["general_version"] is None
    assert ToolRegistry(store).get(report["tool_id"]).single_use


def test_the_report_gives_each_cells_share_of_general_tools_before_and_after():
    from evaluation.report import general_tools_section

    def row(before, after):
        return {
            "method": "creator-general",
            "dataset": "math",
            "generality_before": before,
            "generality": after,
        }

    hard_coded = "its body hard-codes the problem's own numbers (17)"
    rows = [row([], []), row(["it takes no parameters"], [])]
    rows += [
        row([hard_coded], [hard_coded, "it never uses its parameters (a)"]),
        row([hard_coded], [hard_coded]),
    ]
    rows += [{"method": "creator-general", "dataset": "math", "generality": None, "generality_before": None}]
    rows += [{"method": "cot", "dataset": "math"}]  # no tools: not judged, no line
    lines = general_tools_section(rows)
    why = "numbers hard-coded 2, parameters unused 1"
    assert lines[-1] == f"| creator-general | math | 4 | 25% | 50% | {why} | — |"
    assert not any("| cot |" in line for line in lines)
    outcomes = [None, "general", "still single-use"]
    recorded = [{**r, "general_version": outcome} for r, outcome in zip(rows[:3], outcomes, strict=True)]
    recorded += [rows[3], {**rows[3], "general_version": "answered otherwise"}]
    asked = "3: general 1, still single-use 1, answered otherwise 1"
    assert general_tools_section(recorded)[-1].endswith(f"| {asked} (not recorded in 1) |")


def test_a_reused_tool_rectified_into_a_constant_one_is_judged_and_stored_single_use():
    store = InMemoryStore()
    stored_wrong = '''
def multiply_then_add(a: int, b: int, c: int) -> int:
    """a * b + c, as in 17 * 23 + 5."""
    return a * b + c + d
'''  # d: a NameError
    broken = ToolRegistry(store).add(tool_from_source(stored_wrong))
    replies = [fenced("print(multiply_then_add(17, 23, 5))"), rewrite(CONSTANT, "compute_expression()")]
    report, _ = run(replies, store, reuse_tools=True, reuse_threshold=0.0, general_tools=False)
    assert report["reused_tool_id"] == broken.id and report["answer"] == "396"
    assert report["generality"] == [
        "it takes no parameters",
        "its body hard-codes the problem's own numbers (5, 17, 23)",
    ]
    stored = ToolRegistry(store).get(report["tool_id"])
    assert stored is not None and stored.name == "compute_expression" and stored.single_use


def test_the_stored_usage_shows_the_runs_answer_not_the_general_version_given_up():
    store = InMemoryStore()
    replies = after_a_constant_tool(
        GENERAL.replace("a * b + c", "a * (b + c)"), "multiply_then_add(17, 23, 5)"
    )
    report, _ = run(replies, store)
    stored = ToolRegistry(store).get(report["tool_id"])
    assert report["attempts"][-1]["answer"] == "476"
    assert stored is not None and stored.demos[0].output == "396"
    assert stored.demos[0].call == "print(compute_expression())"
