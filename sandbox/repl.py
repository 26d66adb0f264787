"""langchain-experimental's Python REPL and its two tools, with every cell run in our sandbox.

``SandboxedPythonREPL``, ``SandboxedPythonREPLTool`` and ``SandboxedPythonAstREPLTool`` keep
the originals' names, descriptions, argument schemas, input sanitising and return
conventions, so code written against ``PythonREPL``, ``PythonREPLTool`` or
``PythonAstREPLTool`` (``PALChain`` among it) swaps one import. The originals ``exec`` the
model's code inside the caller's process; these never do.

REPL state is kept by replay: each call runs, in a fresh confined process, the session's
earlier successful cells with their output discarded, then the new cell. A long-lived
confined interpreter would be faster per call, but it is a process that can be left
half-alive by a crash or a limit, and whose state a cell can corrupt for every later
one; a fresh process per call has neither problem and needs no protocol of its own. The
cost, replay time growing with the session, is bounded by ``max_cells`` and measured by
``benchmarks/repl_latency.py``. Cells that failed are not replayed, so their partial
effects are gone (the original keeps them); cells that draw random numbers or read the
clock give new values when replayed.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SkipValidation

from sandbox.backends import configured_executor
from sandbox.executor import Executor
from sandbox.result import Limits

_MARK = "__toolmaker_repl__:"
REPL_DESCRIPTION = (
    "A Python shell. Use this to execute python commands. "
    "Input should be a valid python command. "
    "If you want to see the output of a value, you should print it out "
    "with `print(...)`."
)
AST_DESCRIPTION = (
    "A Python shell. Use this to execute python commands. "
    "Input should be a valid python command. "
    "When using this tool, sometimes output is abbreviated - "
    "make sure it does not look abbreviated before using it in your answer."
)
TIMED_OUT = "Execution timed out"
"""What the original returns when a cell runs past its timeout."""

# What runs in the sandbox: replay the session's cells silently, then the new one as the
# original REPL (exec, printed output or the exception's repr) or AST tool (the last
# expression's value) would; the result goes out as one marked JSON line.
_RUNNER = """
import ast, contextlib, io, json, sys
_session = json.loads(_SESSION)
_ns = {"__name__": "__main__", "__builtins__": __builtins__}
_ns.update(_session["locals"])
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    for _cell in _session["cells"]:
        exec(compile(_cell, "<cell>", "exec"), _ns)
_out = io.StringIO()
_ok = True
try:
    if _session["mode"] == "repl":
        with contextlib.redirect_stdout(_out):
            exec(compile(_session["cell"], "<cell>", "exec"), _ns)
        _result = _out.getvalue()
    else:
        _tree = ast.parse(_session["cell"])
        exec(ast.unparse(ast.Module(_tree.body[:-1], type_ignores=[])), _ns)
        _last = ast.unparse(ast.Module(_tree.body[-1:], type_ignores=[]))
        try:
            with contextlib.redirect_stdout(_out):
                _value = eval(_last, _ns)
            _result = _out.getvalue() if _value is None else _value
        except Exception:
            with contextlib.redirect_stdout(_out):
                exec(_last, _ns)
            _result = _out.getvalue()
except Exception as _error:
    _ok = False
    _result = repr(_error) if _session["mode"] == "repl" else f"{type(_error).__name__}: {_error}"
try:  # a value that JSON carries unchanged crosses as it is; anything else as its str(), as a tool shows it
    _text = json.dumps(_result)
    if json.loads(_text) != _result:
        raise ValueError
except (TypeError, ValueError):
    _text = json.dumps(str(_result))
print(_MARK + json.dumps({"ok": _ok, "result": json.loads(_text)}))
"""


def sanitize_input(query: str) -> str:
    """Remove whitespace, backticks and a leading ``python``, as langchain-experimental does."""
    query = re.sub(r"^(\s|`)*(?i:python)?\s*", "", query)
    return re.sub(r"(\s|`)*$", "", query)


class SandboxedPythonREPL(BaseModel):
    """``PythonREPL``'s interface, each command run in the sandbox with the session's state."""

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True)

    globals: dict[str, Any] | None = Field(default_factory=dict, alias="_globals")
    locals: dict[str, Any] | None = Field(default_factory=dict, alias="_locals")
    """Values every cell sees (``globals``, then ``locals`` over them), as JSON: a dict or a list
    of rows crosses, objects of the caller's never do."""
    executor: SkipValidation[Executor | None] = None
    limits: Limits = Field(default_factory=lambda: Limits(wall_seconds=10.0))
    max_cells: int = 50
    _cells: list[str] = PrivateAttr(default_factory=list)

    def model_post_init(self, __context: Any) -> None:
        """Refuse locals that are not JSON: the sandbox gets values, never objects of ours."""
        try:
            json.dumps(self.values(), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"the REPL's locals must be JSON values (a dict, a list of rows): {exc}"
            ) from exc

    def values(self) -> dict[str, Any]:
        """The names every cell starts with."""
        return {**(self.globals or {}), **(self.locals or {})}

    @staticmethod
    def sanitize_input(query: str) -> str:
        """Remove whitespace, backticks and a leading ``python``."""
        return sanitize_input(query)

    @property
    def cells(self) -> list[str]:
        """The session's successful cells so far, replayed before each new one."""
        return list(self._cells)

    def reset(self) -> None:
        """Forget every cell: the next one starts from the locals alone."""
        self._cells.clear()

    def run(self, command: str, timeout: int | None = None) -> str:
        """Run ``command`` after the session's cells; what it printed, or its exception's ``repr``."""
        _, result = self.run_cell(self.sanitize_input(command), "repl", timeout)
        return result if isinstance(result, str) else json.dumps(result)

    def run_cell(self, cell: str, mode: str, timeout: float | None = None) -> tuple[bool, Any]:
        """Run one cell (``repl``: exec; ``ast``: its last expression's value); if it ran, and its result."""
        if len(self._cells) >= self.max_cells:
            self.reset()
            return False, (
                f"the session had run {self.max_cells} cells, its most; it was restarted empty, so define "
                "what you need again"
            )
        session = {"cells": self._cells, "cell": cell, "mode": mode, "locals": self.values()}
        main = f"_SESSION = {json.dumps(session)!r}\n_MARK = {_MARK!r}\n{_RUNNER}"
        limits = self.limits if timeout is None else _with_wall(self.limits, float(timeout))
        outcome = (self.executor or configured_executor()).run(main, limits=limits)
        marked = [line for line in outcome["stdout"].splitlines() if line.startswith(_MARK)]
        if outcome["status"] == "timeout":
            return False, TIMED_OUT
        if outcome["status"] != "ok" or not marked:
            error = outcome["error"]
            detail = f"{error['type']}: {error['message']}" if error else outcome["status"]
            return (
                False,
                f"the sandbox stopped this cell ({outcome['status']}: {detail}); earlier cells are kept",
            )
        reply = json.loads(marked[-1].removeprefix(_MARK))
        if reply["ok"]:
            self._cells.append(cell)
        return bool(reply["ok"]), reply["result"]


def _with_wall(limits: Limits, seconds: float) -> Limits:
    return replace(limits, wall_seconds=seconds, cpu_seconds=None)


class SandboxedPythonREPLTool(BaseTool):
    """``PythonREPLTool``, its cells in the sandbox."""

    name: str = "Python_REPL"
    description: str = REPL_DESCRIPTION
    python_repl: SandboxedPythonREPL = Field(default_factory=SandboxedPythonREPL)
    sanitize_input: bool = True

    def _run(self, query: str, run_manager: Any = None) -> Any:
        if self.sanitize_input:
            query = sanitize_input(query)
        return self.python_repl.run(query)


class PythonInputs(BaseModel):
    """Python inputs."""

    query: str = Field(description="code snippet to run")


class SandboxedPythonAstREPLTool(BaseTool):
    """``PythonAstREPLTool``, its cells in the sandbox; the last expression's value is the answer."""

    name: str = "python_repl_ast"
    description: str = AST_DESCRIPTION
    locals: dict[str, Any] = Field(default_factory=dict)
    sanitize_input: bool = True
    args_schema: type[BaseModel] = PythonInputs
    executor: SkipValidation[Executor | None] = None
    _repl: SandboxedPythonREPL = PrivateAttr()

    model_config = ConfigDict(arbitrary_types_allowed=True)

    def model_post_init(self, __context: Any) -> None:
        """One REPL session per tool, holding the caller's JSON locals."""
        self._repl = SandboxedPythonREPL(_locals=self.locals, executor=self.executor)

    def _run(self, query: str, run_manager: Any = None) -> Any:
        if self.sanitize_input:
            query = sanitize_input(query)
        _, result = self._repl.run_cell(query, "ast")
        return result
