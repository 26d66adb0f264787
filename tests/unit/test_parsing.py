import pytest

from nodes.common.parsing import call_from_code, extract_code_blocks, require_code
from tools_registry.source import (
    ToolSourceError,
    keep_imports,
    render_tool_signature,
    split_definitions,
    tool_from_source,
)

TOOL = '''
import math

def circle_area(radius: float) -> float:
    """Area of a circle.

    Args:
        radius: The radius.
    """
    return math.pi * radius ** 2
'''


def test_fenced_block_with_prose_around_it():
    reply = "Sure! Here is the tool:\n```python\nx = 1\n```\nIt computes x. Hope it helps."
    assert extract_code_blocks(reply) == ["x = 1"]


def test_several_blocks_keep_order_and_skip_other_languages():
    reply = "```py\na = 1\n```\n```text\nnot code\n```\n```\nb = 2\n```"
    assert extract_code_blocks(reply) == ["a = 1", "b = 2"]


def test_unclosed_fence_from_a_truncated_reply_runs_to_the_end():
    reply = "```python\ndef f():\n    return 1\n"
    assert extract_code_blocks(reply) == ["def f():\n    return 1"]


def test_bare_code_without_fences_counts_when_it_parses():
    assert extract_code_blocks("print(1 + 1)") == ["print(1 + 1)"]
    assert extract_code_blocks("The answer is 42.") == []


def test_reply_without_code_is_a_precise_error():
    with pytest.raises(ToolSourceError, match="held no Python code"):
        require_code("I think the answer is 12.", "create")


def test_tool_from_source_strips_example_calls_and_prints():
    code = TOOL + "\nprint(circle_area(2))\nresult = circle_area(3)\n"
    tool = tool_from_source(code)
    assert tool["name"] == "circle_area"
    assert "print(" not in tool["code"] and "circle_area(3)" not in tool["code"]
    assert tool["code"].startswith("import math")
    assert tool["signature"] == "circle_area(radius: float) -> float"
    assert tool["docstring"].startswith("Area of a circle.")


def test_main_function_is_the_one_no_other_function_calls():
    code = (
        "def helper(x):\n    return x + 1\n\n"
        "def solve(x):\n    return helper(x) * 2\n\n"
        "def _private():\n    pass\n"
    )
    assert tool_from_source(code)["name"] == "solve"
    assert tool_from_source(code, preferred_name="helper")["name"] == "helper"


def test_constants_stay_with_the_tool_but_computed_values_do_not():
    definitions, statements = split_definitions("RATE = 0.05\ndef f(x):\n    return x * RATE\nvalue = f(3)\n")
    assert "RATE = 0.05" in definitions and "value" not in definitions
    assert statements == "value = f(3)"


def test_syntax_error_names_line_and_text():
    with pytest.raises(ToolSourceError, match=r"not valid Python: .* line 2"):
        tool_from_source("def f(x):\n    return (x\n")


def test_code_without_function_is_rejected():
    with pytest.raises(ToolSourceError, match="defines no function"):
        tool_from_source("x = 3\nprint(x)")


def test_render_signature_shows_def_line_and_docstring_only():
    rendered = render_tool_signature(tool_from_source(TOOL))
    assert rendered.startswith("def circle_area(radius: float) -> float:")
    assert "Area of a circle." in rendered and "math.pi" not in rendered


def test_call_drops_a_repeated_tool_definition_and_keeps_the_call():
    reply_code = TOOL + "\nprint(circle_area(2.5))"
    call = call_from_code(reply_code, "circle_area", TOOL)
    assert "def " not in call
    assert call.splitlines() == ["import math", "print(circle_area(2.5))"]


def test_call_without_print_gets_one_for_its_result():
    assert call_from_code("r = circle_area(2)", "circle_area", TOOL) == "r = circle_area(2)\nprint(r)"
    assert call_from_code("circle_area(2)", "circle_area", TOOL) == "print(circle_area(2))"


def test_call_that_never_calls_the_tool_is_rejected():
    with pytest.raises(ToolSourceError, match="never calls the tool `circle_area`"):
        call_from_code("print(3.14 * 4)", "circle_area", TOOL)


SYMPY_TOOL = (
    'from sympy import symbols, solve\nimport re\n\ndef roots():\n    return solve(symbols("x") ** 2 - 4)\n'
)


@pytest.mark.parametrize(
    "rewrite, expected",
    [
        # No imports of its own: all of the old tool's come back, so an unchanged rewrite is equal.
        ("def roots(c):\n    return solve(symbols('x'))",
         "from sympy import symbols, solve\n\nimport re\n\ndef roots(c):\n    return solve(symbols('x'))"),
        # Imports of its own: only those that supply a name it reads and binds nowhere.
        ("import math\n\ndef roots(c):\n    return solve(c) + math.pi",
         "from sympy import symbols, solve\n\nimport math\n\ndef roots(c):\n    return solve(c) + math.pi"),
        ("import math\n\ndef roots(c, solve=None):\n    return [math.sqrt(c) for symbols in range(2)]",
         "import math\n\ndef roots(c, solve=None):\n    return [math.sqrt(c) for symbols in range(2)]"),
        # A name bound in one function's scope supplies no other function.
        ("import math\n\ndef helper():\n    solve = 1\n    return solve\n\n"
         "def roots(c):\n    return solve(c)",
         "from sympy import symbols, solve\n\nimport math\n\ndef helper():\n    solve = 1\n"
         "    return solve\n\ndef roots(c):\n    return solve(c)"),
        # A docstring-like number first is code, not a docstring: imports go above it.
        ("42\nimport math\n\ndef roots(c):\n    return solve(c)",
         "from sympy import symbols, solve\n\n42\nimport math\n\ndef roots(c):\n    return solve(c)"),
        # A future import stays first.
        ('"""Roots."""\nfrom __future__ import annotations\n\ndef roots(c: float):\n    return solve(c)',
         '"""Roots."""\nfrom __future__ import annotations\n\nfrom sympy import symbols, solve\n\n'
         "import re\n\ndef roots(c: float):\n    return solve(c)"),
    ],
)  # fmt: skip
def test_a_rewrite_gets_back_the_imports_of_the_tool_it_rewrites_that_it_needs(rewrite, expected):
    assert keep_imports(rewrite, SYMPY_TOOL) == expected


def test_a_rewrite_with_invalid_scopes_is_an_unusable_tool_not_a_crash():
    with pytest.raises(
        ToolSourceError, match="not valid Python: name 'x' is used prior to global declaration"
    ):
        keep_imports("import math\n\ndef f():\n    print(x)\n    global x", SYMPY_TOOL)


def test_a_star_import_comes_back_only_for_names_no_other_import_supplies():
    star = "from math import *\nfrom sympy import solve\n\ndef f():\n    return solve(sqrt(2))\n"
    uses_builtins_only = "import operator\n\ndef f(x, y):\n    return pow(x, y, 7) + operator.neg(x)"
    assert keep_imports(uses_builtins_only, star) == uses_builtins_only  # math.pow would shadow pow
    needs_sqrt = "import operator\n\ndef f(x):\n    return sqrt(x)"
    assert keep_imports(needs_sqrt, star) == "from math import *\n\n" + needs_sqrt
