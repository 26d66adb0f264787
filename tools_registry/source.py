"""Read a tool's source with the AST, never by importing or running it."""

from __future__ import annotations

import ast
import builtins
import symtable
from typing import TypeGuard

from typing_extensions import TypedDict


class ToolSourceError(ValueError):
    """The code does not hold a usable tool; the message says precisely why."""


class ToolSpec(TypedDict):
    """A created tool: a documented Python function and everything it needs."""

    name: str
    """Name of the entry-point function."""
    code: str
    """Imports, helpers and the function itself, with no top-level calls or prints."""
    docstring: str
    """The function's docstring (empty if the model wrote none)."""
    signature: str
    """``name(arg: type = default, ...) -> type`` as written in the code."""


_DEFINITION_TYPES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _is_constant_assignment(node: ast.stmt) -> bool:
    """``PI = 3.14`` belongs to a tool; ``result = solve(3)`` does not."""
    if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
        return not any(isinstance(child, ast.Call) for child in ast.walk(node.value))
    return False


def _is_definition(node: ast.stmt) -> bool:
    return isinstance(node, _DEFINITION_TYPES) or _is_constant_assignment(node)


def _invalid(what: str, exc: SyntaxError) -> ToolSourceError:
    return ToolSourceError(
        f"the {what} is not valid Python: {exc.msg} at line {exc.lineno}: {(exc.text or '').strip()!r}"
    )


def parse_python(code: str, what: str) -> ast.Module:
    """Parse code or raise :class:`ToolSourceError` naming the line and the problem."""
    try:
        return ast.parse(code)
    except SyntaxError as exc:
        raise _invalid(what, exc) from exc


def top_level_statements(code: str, what: str = "code") -> list[tuple[ast.stmt, str]]:
    """Each top-level statement of ``code`` with its source text (decorators included).

    Raises:
        ToolSourceError: The code does not parse.
    """
    lines = code.splitlines()
    statements = []
    for node in parse_python(code, what).body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        statements.append((node, "\n".join(lines[start - 1 : node.end_lineno])))
    return statements


def _assignment_targets(node: ast.stmt) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        return node.targets
    return [node.target] if isinstance(node, ast.AnnAssign) else []


def assigns_to(node: ast.stmt, names: frozenset[str]) -> bool:
    """Whether ``node`` is an assignment to one of ``names`` (``question = "..."``)."""
    return any(isinstance(target, ast.Name) and target.id in names for target in _assignment_targets(node))


def split_definitions(code: str, what: str = "code", inputs: frozenset[str] = frozenset()) -> tuple[str, str]:
    """Split code into its definitions and the statements that use them.

    Small models leave example calls and prints below a tool; those belong to the call,
    not to the tool that is kept. Assignments to ``inputs`` (variables a call is given,
    such as LATM's ``question``) set up a call, so they are statements too.

    Returns:
        ``(definitions, statements)``, each as source text (possibly empty).
    """
    definitions: list[str] = []
    statements: list[str] = []
    for node, segment in top_level_statements(code, what):
        is_definition = _is_definition(node) and not assigns_to(node, inputs)
        (definitions if is_definition else statements).append(segment)
    return "\n\n".join(definitions), "\n".join(statements)


def _imported_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    """The names an import binds (``*`` for a star import)."""
    return {alias.asname or alias.name.split(".")[0] for alias in node.names}


def _free_names(code: str) -> set[str]:
    """Names the code reads as globals but never binds at top level, builtins aside: what imports supply.

    Scopes count: ``np = 1`` inside one function supplies no other function's ``np``.

    Raises:
        ToolSourceError: The scopes are invalid (a name used before its ``global``), which
            parsing alone does not find.
    """
    try:
        module = symtable.symtable(code, "tool", "exec")
    except SyntaxError as exc:
        raise _invalid("tool", exc) from exc
    top_level = module.get_symbols()
    bound = {symbol.get_name() for symbol in top_level if symbol.is_assigned() or symbol.is_imported()}
    read: set[str] = set()
    scopes = [module]
    while scopes:
        scope = scopes.pop()
        scopes += scope.get_children()
        read |= {
            symbol.get_name()
            for symbol in scope.get_symbols()
            if symbol.is_referenced() and (scope is module or symbol.is_global())
        }
    return read - bound - set(dir(builtins))


def _is_import(node: ast.stmt) -> TypeGuard[ast.Import | ast.ImportFrom]:
    """An import other than ``from __future__``, which must come first and is never moved."""
    return isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.module != "__future__")


def _opening(module: ast.Module) -> int:
    """The line after a leading docstring and ``from __future__`` imports (0 when there are none)."""
    end = 0
    for index, node in enumerate(module.body):
        docstring = (
            index == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (docstring or future):
            break
        end = node.end_lineno or end
    return end


def keep_imports(code: str, previous: str) -> str:
    """``code`` with the imports of ``previous`` it needs put back, after any docstring or future import.

    Asked to rewrite a tool, small models often return the function without the import lines
    above it, and the rewrite then fails with a NameError that has nothing to do with the fix.
    A rewrite with no imports of its own gets all of them back (so an unchanged rewrite stays
    equal to the tool it rewrites); one with imports gets those that supply names it reads and
    binds nowhere. A star import comes back only for names no other import supplies.

    Raises:
        ToolSourceError: ``code`` does not parse.
    """
    module = parse_python(code, "tool")
    own_imports = any(_is_import(node) for node in module.body)
    free = _free_names(code)
    imports = [
        (node, segment) for node, segment in top_level_statements(previous, "tool") if _is_import(node)
    ]
    named = set().union(*(_imported_names(node) for node, _ in imports)) - {"*"}

    def needed(node: ast.Import | ast.ImportFrom) -> bool:
        names = _imported_names(node)
        if names == {"*"}:
            return bool(free - named)
        return not own_imports or bool(names & free)

    kept = [segment for node, segment in imports if needed(node)]
    if not kept:
        return code
    lines = code.splitlines()
    split = _opening(module)
    opening = "\n".join(lines[:split]).strip("\n")
    # Joined as split_definitions joins statements, so an unchanged rewrite stays equal.
    return "\n\n".join(part for part in (opening, *kept, "\n".join(lines[split:]).strip("\n")) if part)


def defines_function(module: ast.Module) -> bool:
    """Whether a parsed module defines a function at top level."""
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) for node in module.body)


def _signature(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    returns = f" -> {ast.unparse(function.returns)}" if function.returns else ""
    return f"{function.name}({ast.unparse(function.args)}){returns}"


def _called_names(node: ast.AST) -> set[str]:
    return {
        call.func.id
        for call in ast.walk(node)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    }


def _entry_point(
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef], preferred: str | None
) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The function callers should use: the named one, else the last one no other calls."""
    by_name = {function.name: function for function in functions}
    if preferred and preferred in by_name:
        return by_name[preferred]
    called: set[str] = set()
    for function in functions:
        called |= _called_names(function) - {function.name}
    public = [f for f in functions if f.name not in called and not f.name.startswith("_")]
    return (public or functions)[-1]


def tool_from_source(code: str, preferred_name: str | None = None) -> ToolSpec:
    """Build a :class:`ToolSpec` from model-written code.

    Top-level calls and prints are stripped; the entry point is ``preferred_name`` if
    defined, otherwise the last public function no other function calls.

    Raises:
        ToolSourceError: The code does not parse or defines no function.
    """
    definitions, _ = split_definitions(code, "tool")
    module = ast.parse(definitions)
    functions = [node for node in module.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not functions:
        raise ToolSourceError("the tool defines no function: write one `def name(...):` with a docstring")
    entry = _entry_point(functions, preferred_name)
    return ToolSpec(
        name=entry.name,
        code=definitions.strip() + "\n",
        docstring=ast.get_docstring(entry) or "",
        signature=_signature(entry),
    )


def rewritten_tool(code: str, previous: ToolSpec | None) -> ToolSpec:
    """The tool a rewrite defines, with the name and the imports it uses of the tool it replaces.

    Raises:
        ToolSourceError: The code does not parse or defines no function.
    """
    if previous is None:
        return tool_from_source(code)
    return tool_from_source(keep_imports(code, previous["code"]), preferred_name=previous["name"])


def render_tool_signature(tool: ToolSpec) -> str:
    """Render a tool as its ``def`` line and docstring: what a caller needs to use it."""
    docstring = tool["docstring"].strip() or "(no docstring)"
    indented = "\n".join(f"    {line}" if line else "" for line in docstring.splitlines())
    return f'def {tool["signature"]}:\n    """\n{indented}\n    """'
