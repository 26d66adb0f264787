"""What the registry reads from a tool's code: its argument schema and its identity."""

from __future__ import annotations

import ast
import hashlib
import inspect
import re
from collections.abc import Iterator
from typing import Any, Literal

_JSON_TYPES = {
    "int": "integer",
    "float": "number",
    "complex": "string",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "tuple": "array",
    "set": "array",
    "dict": "object",
    "List": "array",
    "Tuple": "array",
    "Sequence": "array",
    "Dict": "object",
    "Mapping": "object",
}


def _entry(module: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    raise ValueError(f"the code defines no function {name!r}")


def _json_type(annotation: ast.expr | None) -> dict[str, Any]:
    """A JSON-schema type for an annotation; unknown or missing annotations allow anything."""
    if annotation is None:
        return {}
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    if isinstance(annotation, ast.Attribute):
        annotation = ast.Name(id=annotation.attr)
    if isinstance(annotation, ast.Name) and annotation.id in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation.id]}
    if isinstance(annotation, ast.BinOp):  # int | float and the like
        types = {_json_type(side).get("type") for side in (annotation.left, annotation.right)}
        if types == {"integer", "number"}:
            return {"type": "number"}
    return {}


def _with_defaults(arguments: ast.arguments) -> list[tuple[ast.arg, ast.expr | None]]:
    """The positional, then the keyword-only parameters, each with its default (None: required)."""
    positional = [*arguments.posonlyargs, *arguments.args]
    padded = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    keyword_only = zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    return [*zip(positional, padded, strict=True), *keyword_only]


def argument_schema(code: str, name: str) -> dict[str, Any]:
    """The JSON schema of a function's arguments, read from its signature.

    Parameters without a default are required; literal defaults are kept.

    Raises:
        ValueError: The code defines no function called ``name``.
    """
    parameters = _with_defaults(_entry(ast.parse(code), name).args)
    properties: dict[str, Any] = {}
    for argument, default in parameters:
        schema = {**_json_type(argument.annotation), "title": argument.arg}
        if default is not None:
            try:
                schema["default"] = ast.literal_eval(default)
            except ValueError:
                pass
        properties[argument.arg] = schema
    required = [argument.arg for argument, default in parameters if default is None]
    return {"type": "object", "properties": properties, "required": required}


def _strip_docstrings(module: ast.Module) -> ast.Module:
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    node.body = node.body[1:] or [ast.Pass()]
    return module


def normalized_code(code: str) -> str:
    """The code without comments, docstrings or formatting: what makes two tools the same."""
    return ast.unparse(_strip_docstrings(ast.parse(code)))


def content_hash(code: str) -> str:
    """SHA-256 of :func:`normalized_code`."""
    return hashlib.sha256(normalized_code(code).encode()).hexdigest()


_NUMBER = re.compile(r"(?<![\w.])(?:\d[\d,]*(?:\.\d+)?|\.\d+)")
_ORDINARY_CONSTANTS = frozenset({0.0, 1.0, 2.0, 10.0, 100.0, 1000.0})
"""Numbers a general tool may well contain (halves, percentages, scales) whatever the problem says."""


def _numbers_in(text: str) -> set[float]:
    numbers = set()
    for match in _NUMBER.finditer(text):
        try:
            numbers.add(abs(float(match.group().replace(",", ""))))
        except ValueError:
            continue
    return numbers


def _literal_numbers(module: ast.Module) -> set[float]:
    """Numeric literals of the code (signs dropped)."""
    constants = [node.value for node in ast.walk(module) if isinstance(node, ast.Constant)]
    return {abs(float(v)) for v in constants if isinstance(v, int | float) and not isinstance(v, bool)}


def _string_values(node: ast.AST) -> Iterator[str]:
    """The strings ``node``'s code uses as values.

    Not a string standing alone as a statement (a docstring, or a note), nor an f-string's
    format spec (``{x:>17}``).
    """
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    for field, child in ast.iter_fields(node):
        if isinstance(node, ast.FormattedValue) and field == "format_spec":
            continue
        for item in child if isinstance(child, list) else [child]:
            if isinstance(item, ast.AST):
                yield from _string_values(item)


def _numbers_both_ways(text: str) -> set[float]:
    """The numbers in ``text``, ``1,4`` read both as 14 and as 1 and 4 (a thousands comma or a list)."""
    return _numbers_in(text) | _numbers_in(text.replace(",", " "))


def _code_numbers(module: ast.Module) -> set[float]:
    """Numbers written in the code, in number literals and string values.

    The whole module, not the entry function alone: a table copied into a constant or a helper
    hard-codes the problem as surely as the function's own body. So does a table copied into
    strings (``stem == '4' and leaf in '03'``).
    """
    return _literal_numbers(module).union(*(_numbers_both_ways(text) for text in _string_values(module)))


def _names_in(code: str) -> set[str]:
    try:
        return {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)}
    except SyntaxError:
        return set()


def _calls_of(call: str, name: str) -> list[ast.Call]:
    try:
        module = ast.parse(call)
    except SyntaxError:
        return []
    return [
        node
        for node in ast.walk(module)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def _signature(function: ast.FunctionDef | ast.AsyncFunctionDef) -> inspect.Signature:
    """The function's signature, its defaults' expressions standing in for their values.

    Raises:
        ValueError: The parameters cannot make a signature (a name given twice).
    """
    arguments, kinds = function.args, inspect.Parameter
    order = (  # the order of _with_defaults
        [kinds.POSITIONAL_ONLY] * len(arguments.posonlyargs)
        + [kinds.POSITIONAL_OR_KEYWORD] * len(arguments.args)
        + [kinds.KEYWORD_ONLY] * len(arguments.kwonlyargs)
    )
    parameters = [
        kinds(argument.arg, kind, default=kinds.empty if default is None else default)
        for kind, (argument, default) in zip(order, _with_defaults(arguments), strict=True)
    ]
    positional = len(arguments.posonlyargs) + len(arguments.args)
    if arguments.vararg is not None:
        parameters.insert(positional, kinds(arguments.vararg.arg, kinds.VAR_POSITIONAL))
    if arguments.kwarg is not None:
        parameters.append(kinds(arguments.kwarg.arg, kinds.VAR_KEYWORD))
    return inspect.Signature(parameters)


Binding = Literal["binds", "fails", "no call"]


def call_binding(call: str, code: str, name: str) -> Binding:
    """Whether the calls of ``name`` written in ``call`` bind to the signature ``code`` gives it.

    ``no call``: ``call`` never names ``name``. Code that only passes it around
    (``map(name, ...)``) or unpacks into it (``*values``, ``**options``) is taken to bind:
    only running it can tell.

    Raises:
        ValueError: The code defines no function called ``name``.
    """
    function = _entry(ast.parse(code), name)
    invocations = _calls_of(call, name)
    if not invocations:
        return "binds" if name in _names_in(call) else "no call"
    try:
        signature = _signature(function)
    except ValueError:
        return "fails"
    for node in invocations:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            continue
        if len({k.arg for k in node.keywords}) < len(node.keywords):
            return "fails"
        try:
            signature.bind(*node.args, **{str(k.arg): k.value for k in node.keywords})
        except TypeError:
            return "fails"
    return "binds"


def only_problem_numbers(code: str, problem: str) -> bool:
    """Whether every number written in ``code`` is one of ``problem``'s or an ordinary constant."""
    try:
        module = ast.parse(code)
    except SyntaxError:
        return False
    return _literal_numbers(module) <= _numbers_in(problem) | _ORDINARY_CONSTANTS


def generality_issues(code: str, name: str, call: str, problem: str) -> list[str]:
    """Why a tool is not a general one (none: it is), read from its code and the call that used it.

    A general tool takes parameters and uses them, the call passes the problem's values to
    them, and the body does not hard-code the problem's own numbers (beyond ordinary
    constants such as 0, 1, 2, 10, 100, 1000).

    Raises:
        ValueError: The code defines no function called ``name``.
    """
    module = ast.parse(code)
    function = _entry(module, name)
    arguments = function.args
    parameters = [
        a.arg
        for a in [
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
            arguments.vararg,
            arguments.kwarg,
        ]
        if a is not None
    ]
    issues = []
    if not parameters:
        issues.append(_ISSUES["no parameters"])
    else:
        used = {node.id for node in ast.walk(function) if isinstance(node, ast.Name)}
        if not used & set(parameters):
            issues.append(f"{_ISSUES['parameters unused']} ({', '.join(parameters)})")
        invocations = _calls_of(call, name)
        if not invocations:
            issues.append(f"{_ISSUES['not called']} {name}")
        elif not any(node.args or node.keywords for node in invocations):
            issues.append(_ISSUES["no values passed"])
    if hard_coded := sorted((_code_numbers(module) & _numbers_both_ways(problem)) - _ORDINARY_CONSTANTS):
        shown = ", ".join(f"{number:g}" for number in hard_coded)
        issues.append(f"{_ISSUES['numbers hard-coded']} ({shown})")
    return issues


_ISSUES = {
    "no parameters": "it takes no parameters",
    "parameters unused": "it never uses its parameters",
    "not called": "the call does not call",
    "no values passed": "the call passes it no values",
    "numbers hard-coded": "its body hard-codes the problem's own numbers",
}
"""Each rule of :func:`generality_issues` by a short name, with how its issues begin."""


def issue_kind(issue: str) -> str:
    """Which rule of :func:`generality_issues` an issue comes from, by its short name."""
    return next((kind for kind, start in _ISSUES.items() if issue.startswith(start)), "other")
