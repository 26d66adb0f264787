"""Sandboxed drop-ins for langchain-experimental's Python REPL, its two tools and PALChain."""

import os

import pytest

from sandbox import get_executor
from sandbox.repl import SandboxedPythonAstREPLTool, SandboxedPythonREPL, SandboxedPythonREPLTool
from tests.fakes import ScriptedChatModel

experimental = pytest.importorskip("langchain_experimental", reason="needs the [experimental] extra")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REPL_CELLS = [
    "x = 2",
    "print(x * 21)",
    "```python\nsquares = [i * i for i in range(4)]\nprint(squares)\n```",
    "1 / 0",
    "print(undefined)",
    "def grow(a):\n    return a + x\nprint(grow(1), squares[-1])",
]
AST_CELLS = [
    "a = 5\na * 2",
    "a + 1",
    "print('p')",
    "rows[0]['v'] + a",
    "nope",
    "[r['v'] for r in rows]",
    "(1, 2)",
]


def test_the_same_cells_give_the_same_outputs_through_the_original_and_through_ours():
    from langchain_experimental.tools import PythonAstREPLTool, PythonREPLTool

    theirs, ours = PythonREPLTool(), SandboxedPythonREPLTool()
    assert (ours.name, ours.description, ours.args) == (theirs.name, theirs.description, theirs.args)
    assert [ours.run(cell) for cell in REPL_CELLS] == [theirs.run(cell) for cell in REPL_CELLS]
    rows = [{"v": 3}]
    theirs_ast, ours_ast = (
        PythonAstREPLTool(locals={"rows": rows}),
        SandboxedPythonAstREPLTool(locals={"rows": rows}),
    )
    assert (ours_ast.name, ours_ast.description, ours_ast.args) == (theirs_ast.name, theirs_ast.description,
                                                                      theirs_ast.args)  # fmt: skip
    assert [str(ours_ast.run(c)) for c in AST_CELLS] == [str(theirs_ast.run(c)) for c in AST_CELLS]


def test_the_original_lets_code_change_our_process_and_ours_does_not(monkeypatch):
    from langchain_experimental.tools import PythonAstREPLTool

    monkeypatch.delenv("TOOLMAKER_PWNED", raising=False)
    attack = "import os\nos.environ['TOOLMAKER_PWNED'] = 'yes'\nos.getpid()"
    inside = SandboxedPythonAstREPLTool().run(attack)
    assert "TOOLMAKER_PWNED" not in os.environ and inside != os.getpid()
    assert PythonAstREPLTool().run(attack) == os.getpid() and os.environ["TOOLMAKER_PWNED"] == "yes"


def test_only_json_values_cross_into_the_sandbox():
    assert SandboxedPythonAstREPLTool(locals={"rows": [{"a": 1}]}).run("len(rows)") == 1
    with pytest.raises(ValueError, match="must be JSON values"):
        SandboxedPythonAstREPLTool(locals={"handle": open(os.devnull)})  # noqa: SIM115


def test_a_session_is_bounded_and_a_cell_the_sandbox_stops_leaves_the_earlier_state():
    repl = SandboxedPythonREPL(max_cells=3)
    assert repl.run("a = 1") == "" and repl.run("b = a + 1") == ""
    hog = repl.run("blob = bytearray(4 * 1024 ** 3)")
    assert "the sandbox stopped this cell" in hog or "MemoryError" in hog
    assert repl.run("print(b)") == "2\n" and len(repl.cells) == 3  # the failed cell is not replayed
    full = repl.run("print(a)")
    assert "restarted empty" in full and repl.cells == []
    assert "NameError" in repl.run("print(b)")
    assert repl.run("while True: pass", timeout=1) == "Execution timed out"


class CountingExecutor:
    """The real sandbox, counting the programs it is given."""

    def __init__(self) -> None:
        self.inner, self.programs = get_executor(), []

    def run(self, main, **options):
        self.programs.append(main)
        return self.inner.run(main, **options)


def test_pal_chain_runs_its_program_in_the_sandbox(monkeypatch):
    from sandbox.pal import SandboxedPALChain

    counting = CountingExecutor()
    monkeypatch.setattr("sandbox.repl.configured_executor", lambda: counting)
    program = "def solution():\n    apples = 6\n    return apples * 7"
    chain = SandboxedPALChain.from_math_prompt(
        ScriptedChatModel(replies=[program]), allow_dangerous_code=True
    )
    assert chain.invoke({"question": "Six boxes of seven apples: how many apples?"})["result"] == "42"
    assert len(counting.programs) == 1 and "apples * 7" in counting.programs[0]


def test_an_agent_on_the_sandboxed_tool_runs_its_calls_in_the_sandbox():
    from langchain.agents import create_agent
    from langchain_core.messages import AIMessage

    query = {"query": "import os\nprint(os.getpid())"}
    call = AIMessage("", tool_calls=[{"name": "Python_REPL", "args": query, "id": "c1"}])
    model = ScriptedChatModel(replies=[call, AIMessage("done")])
    agent = create_agent(model, tools=[SandboxedPythonREPLTool()])
    messages = agent.invoke({"messages": [("user", "Which process are you?")]})["messages"]
    printed = int(messages[2].content)
    assert printed != os.getpid()
