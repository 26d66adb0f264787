import pytest

from nodes.common.checks import explain_asserts, partition_asserts
from nodes.common.judging import answer_key, extract_answer, judge, program_files
from sandbox import ExecutionResult


def result(status="ok", stdout="", error=None) -> ExecutionResult:
    return ExecutionResult(
        status=status, stdout=stdout, stderr="", error=error, seconds=0.1, backend="test", confinement=[]
    )


def test_last_printed_line_is_the_answer_without_prefix():
    assert extract_answer("working...\nFinal Answer: 42\n\n") == "42"
    assert extract_answer("  \n") is None


def test_accepted_answer():
    verdict = judge(result(stdout="step\n115\n"))
    assert (verdict.answer, verdict.failure) == ("115", None)


def test_nothing_printed_asks_for_a_print():
    verdict = judge(result(stdout=""))
    assert verdict.answer is None and "printed nothing" in verdict.failure


def test_none_nan_and_object_reprs_are_not_answers():
    assert "return" in judge(result(stdout="None\n")).failure
    assert "not a usable answer" in judge(result(stdout="nan\n")).failure
    assert "object" in judge(result(stdout="<function f at 0x7f>\n")).failure


@pytest.mark.parametrize("printed", ["[]", "()", "{}", "set()"])
def test_an_empty_collection_is_no_answer_where_the_problem_asks_for_one(printed):
    asked_for_one = judge(result(stdout=f"{printed}\n"), one_value=True)
    assert asked_for_one.answer is None
    assert asked_for_one.failure.startswith(f"The code printed no value (`{printed}`)")


@pytest.mark.parametrize(
    "printed, several",
    [
        ("(2, 8)", True),
        ("[244, 242, 347]", True),
        ("[2 8]", True),  # numpy
        ("{'min': 2, 'max': 8}", True),
        ("[5]", False),
        ("6", False),
        ("3/4", False),
        ("(-2)", False),
        ("yes", False),
        ("[2, 8", False),  # not a literal: the grader decides
        ("[[1 2] [3 4]]", True),
        ("[nan 1.]", True),
        ("1,234", False),  # thousands, not a tuple
        ("-1,234,567.50", False),
        ("1,050", False),
        ("1, 2", True),
    ],
)
def test_several_values_are_not_one_answer_where_the_problem_asks_for_one(printed, several):
    asked_for_one = judge(result(stdout=f"{printed}\n"), one_value=True)
    assert (asked_for_one.answer is None) == several
    if several:
        assert asked_for_one.failure.startswith(f"The code printed several values (`{printed}`)")
    assert judge(result(stdout=f"{printed}\n")).answer == printed  # not asked for one: any answer stands


def test_error_in_tool_is_named_with_model_line_numbers():
    error = {
        "type": "ZeroDivisionError",
        "message": "division by zero",
        "traceback": (
            "Traceback (most recent call last):\n"
            '  File "main.py", line 1, in <module>\n    from tool import *\n'
            '  File "main.py", line 2, in <module>\n    print(f(3))\n'
            '  File "tool.py", line 2, in f\n    return x / 0\n'
            "ZeroDivisionError: division by zero\n"
        ),
        "file": "tool.py",
    }
    failure = judge(result(status="error", error=error)).failure
    assert failure.startswith("Running the tool failed with ZeroDivisionError: division by zero")
    assert 'File "call", line 1' in failure and 'File "tool", line 2' in failure
    assert "from tool import" not in failure


def test_timeout_hint_reaches_the_model():
    error = {"type": "Timeout", "message": "ran past 5 s", "traceback": "", "hint": "avoid brute force"}
    assert "Hint: avoid brute force." in judge(result(status="timeout", error=error)).failure


def test_sandbox_failure_is_ours_not_the_models():
    error = {"type": "OSError", "message": "no space left", "traceback": ""}
    verdict = judge(result(status="sandbox_error", error=error))
    assert verdict.infrastructure_error and verdict.answer is None


def test_failed_self_check_is_quoted_as_written():
    checks = "assert f(1) == 1\nassert f(2, 3) == 9"
    error = {
        "type": "AssertionError",
        "message": "the tool returned 8, the check expected 9",
        "traceback": '  File "checks.py", line 3, in <module>\n    assert ...\nAssertionError: ...',
        "file": "checks.py",
    }
    failure = judge(result(status="error", error=error), checks).failure
    assert "`assert f(2, 3) == 9` failed: the tool returned 8, the check expected 9" in failure


def test_asserts_are_separated_from_example_calls():
    asserts, others = partition_asserts("assert f(1) == 2\nprint(f(3))\nassert f(0) == 0")
    assert asserts == "assert f(1) == 2\nassert f(0) == 0"
    assert others == "print(f(3))"


def test_explained_asserts_keep_line_numbers():
    checks = "assert f(\n    1) == 2\nassert g(1)"
    rewritten = explain_asserts(checks)
    assert len(rewritten.splitlines()) == len(checks.splitlines())
    assert rewritten.splitlines()[2] == "assert g(1)"
    assert "the tool returned" in rewritten.splitlines()[0]


def test_program_imports_tool_and_checks_on_its_first_line_only():
    main, modules = program_files("def f():\n    return 1\n", "assert f() == 1", "print(f())")
    assert main.splitlines() == ["from tool import *; import checks", "print(f())"]
    assert set(modules) == {"tool.py", "checks.py"}
    main, modules = program_files("def f():\n    return 1\n", "", "print(f())")
    assert main.splitlines()[0] == "from tool import *" and set(modules) == {"tool.py"}


@pytest.mark.parametrize(
    ("one", "other"),
    [("2", "2.0"), ("3/4", "0.75"), ("$1,200", "1200"), ("0.9999999999999999", "1"), (" Yes", "yes")],
)
def test_answers_the_graders_read_as_one_number_vote_together(one, other):
    assert answer_key(one) == answer_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [("3", "-3"), ("[85, 327, 576]", "576"), ("3/0", "0"), ("1/2", "1.2")],
)
def test_answers_that_differ_or_are_not_one_number_vote_apart(one, other):
    assert answer_key(one) != answer_key(other)
