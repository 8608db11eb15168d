"""Functions generated at run time, under one set of safety rules (standard library only).

The decision tables, the input check, the expression arithmetic, the decision pipeline, the
scorecard and the tree ensembles are compiled from Python source written at run time: a
function specialised to one strategy or one model runs several times faster than a data-driven
interpreter. Every such source goes through :func:`compile_functions`, which enforces:

- **Names.** A name read in the source is a parameter or local of the generated code, a key of
  the caller's ``namespace``, one of :data:`SAFE_BUILTINS` or :data:`CONSTANTS`; nothing else
  resolves (the functions run with ``SAFE_BUILTINS`` as their builtins). No name starts with
  ``__``. Names that are written into source come from :func:`identifier`.
- **Attributes.** Only those in :data:`SAFE_ATTRIBUTES` plus the caller's ``attributes``; never
  one that starts with ``_`` other than ``__class__`` (the way out of every Python sandbox runs
  through dunder attributes).
- **Syntax.** The source only defines functions (nothing runs while it is compiled), from the
  node types of :data:`_ALLOWED_NODES`: functions, assignments, ``if``, ``return``,
  expressions and comprehensions; no import, class, loop statement, ``try``, ``with``,
  ``lambda``, ``global``, ``yield`` or ``await``.
- **Literals.** Values from documents and models enter source only through :func:`literal`
  (numbers, strings, ``None``, booleans and tuples of them, written with the base type's
  ``repr`` so that a subclass cannot choose its own text) or as bound namespace values.
- **Size.** At most :data:`MAX_SOURCE_CHARS` characters (or the caller's lower limit).

A breach raises a :class:`GeneratedCodeRefused` subclass with a stable ``code``.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from types import CodeType
from typing import Any

from puhui.domain.errors import PuhuiError

__all__ = [
    "CONSTANTS",
    "MAX_SOURCE_CHARS",
    "SAFE_ATTRIBUTES",
    "SAFE_BUILTINS",
    "GeneratedCodeRefused",
    "GeneratedSourceTooLarge",
    "UnsafeGeneratedSource",
    "UnsafeIdentifier",
    "UnsafeLiteral",
    "compile_function",
    "compile_functions",
    "identifier",
    "literal",
]

MAX_SOURCE_CHARS = 32 * 1024 * 1024
"""The largest generated source accepted (a 2,000-tree boosted model is a few MB)."""

SAFE_BUILTINS: Mapping[str, Any] = {
    "abs": abs,
    "bool": bool,
    "dict": dict,
    "float": float,
    "int": int,
    "len": len,
    "max": max,
    "min": min,
    "str": str,
    "sum": sum,
    "tuple": tuple,
}
"""The only builtins a generated function can reach."""

CONSTANTS: Mapping[str, float] = {"inf": math.inf, "nan": math.nan}
"""Names that :func:`literal` writes for non-finite floats."""

SAFE_ATTRIBUTES = frozenset({"get", "append", "__class__"})
"""Attributes any generated source may read: a mapping's ``get``, a list's ``append`` and the
exact class of a value (``v.__class__ is int``)."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset({
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.If,
    ast.Expr, ast.Pass, ast.Name, ast.Load, ast.Store, ast.Constant, ast.Attribute, ast.Call,
    ast.Subscript, ast.Tuple, ast.List, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp,
    ast.IfExp, ast.Starred, ast.ListComp, ast.GeneratorExp, ast.comprehension,
    ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
})  # fmt: skip
_CONSTANT_TYPES = (str, int, float, bool, type(None))


class GeneratedCodeRefused(PuhuiError):
    """Source generated at run time breaks a rule of :mod:`puhui.codegen`; nothing was run."""

    code = "generated_code_refused"


class UnsafeIdentifier(GeneratedCodeRefused):
    """A name to be written into source is not a plain ASCII identifier (or is a keyword or a
    dunder)."""

    code = "unsafe_identifier"


class UnsafeLiteral(GeneratedCodeRefused):
    """A value to be written into source is not a number, string, flag, ``None`` or a tuple of
    them."""

    code = "unsafe_literal"


class UnsafeGeneratedSource(GeneratedCodeRefused):
    """The source uses a construct, name or attribute the rules do not allow."""

    code = "unsafe_generated_source"


class GeneratedSourceTooLarge(GeneratedCodeRefused):
    code = "generated_source_too_large"


_PARSE_LOCK = threading.Lock()
"""Serialises ``ast.parse`` and ``compile`` of generated source (see ``compile_functions``)."""


def identifier(name: object) -> str:
    """``name`` if it may be written into source as a name: ASCII letters, digits and ``_``,
    not starting with a digit or ``__``, not a keyword."""
    if (
        not isinstance(name, str)
        or name.__class__ is not str  # a subclass could answer the checks below its own way
        or not _IDENTIFIER.match(name)
        or keyword.iskeyword(name)
        or name.startswith("__")
    ):
        raise UnsafeIdentifier(
            f"{name!r} cannot be written into generated code as a name",
            details={"name": repr(name)[:80]},
        )
    return name


def literal(value: object) -> str:
    """Python source for ``value``: the base type's ``repr``, so that the text is data only.

    ``bool`` and ``None`` as themselves; ``int``, ``float`` and ``str`` (and their subclasses,
    NumPy's ``float64`` included) through ``int.__repr__``, ``float.__repr__`` and
    ``str.__repr__``; a tuple element by element. Non-finite floats are written ``inf``,
    ``-inf`` and ``nan``, names bound by :data:`CONSTANTS`.
    """
    if value is None or value is True or value is False:
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value)
    if isinstance(value, str):
        return str.__repr__(value)
    if isinstance(value, tuple):
        return "(" + "".join(f"{literal(item)}, " for item in value) + ")"
    raise UnsafeLiteral(
        f"a {type(value).__name__} cannot be written into generated code as a literal",
        details={"type": type(value).__name__},
    )


def _refuse(message: str, node: ast.AST | None = None) -> UnsafeGeneratedSource:
    line = getattr(node, "lineno", None)
    where = f" (line {line})" if line is not None else ""
    return UnsafeGeneratedSource(message + where, details={"line": line})


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the source itself binds: functions, parameters, assignment targets."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    return bound


def _check(tree: ast.Module, known: set[str], attributes: frozenset[str]) -> None:
    for statement in tree.body:
        if not isinstance(statement, ast.FunctionDef):  # nothing runs while compiling
            raise _refuse("generated source only defines functions", statement)
    bound = _bound_names(tree)
    for name in bound:
        if name.startswith("__"):
            raise _refuse(f"the generated source binds the name {name!r}")
    for node in ast.walk(tree):
        kind = type(node)
        if kind not in _ALLOWED_NODES:
            raise _refuse(f"{kind.__name__} is not allowed in generated source", node)
        if kind is ast.Name:
            name = node.id  # type: ignore[attr-defined]
            if name not in bound and name not in known:
                raise _refuse(f"the generated source reads the unknown name {name!r}", node)
        elif kind is ast.Attribute:
            attr = node.attr  # type: ignore[attr-defined]
            if attr not in attributes or (attr.startswith("_") and attr != "__class__"):
                raise _refuse(f"the generated source reads the attribute {attr!r}", node)
        elif kind is ast.Constant and type(node.value) not in _CONSTANT_TYPES:  # type: ignore[attr-defined]
            raise _refuse("the generated source holds a constant of an unsafe type", node)
        elif kind is ast.FunctionDef and (
            node.decorator_list or node.returns  # type: ignore[attr-defined]
        ):
            raise _refuse("generated functions take no decorators or annotations", node)


def compile_functions(
    source: str,
    names: Iterable[str],
    *,
    namespace: Mapping[str, Any] | None = None,
    attributes: Iterable[str] = (),
    label: str = "generated",
    max_chars: int = MAX_SOURCE_CHARS,
) -> tuple[Callable[..., Any], ...]:
    """Check ``source`` against the rules, compile it and return the functions ``names``.

    ``namespace`` binds the names the source may read besides its own locals (tables, sets,
    helper functions); its keys must be identifiers. ``attributes`` adds to
    :data:`SAFE_ATTRIBUTES` (never an underscore name). ``label`` names the code in
    tracebacks and profiles.
    """
    if not isinstance(source, str):
        raise UnsafeGeneratedSource("generated source must be text")
    limit = min(max_chars, MAX_SOURCE_CHARS)
    if len(source) > limit:
        raise GeneratedSourceTooLarge(
            f"generated source of {len(source):,} characters is over the limit of {limit:,}",
            details={"chars": len(source), "limit": limit},
        )
    bound = dict(namespace or {})
    for key in bound:
        identifier(key)
    allowed = frozenset(attributes)
    for attr in allowed:
        if attr.startswith("_"):
            raise UnsafeIdentifier(f"the attribute {attr!r} may not be allowed")
    try:
        tree, code = _parse(source, f"<puhui-{label}>")
    except SyntaxError as exc:
        raise UnsafeGeneratedSource(
            f"generated source does not parse: {exc.msg} (line {exc.lineno})",
            details={"line": exc.lineno},
        ) from None
    _check(tree, {*bound, *SAFE_BUILTINS, *CONSTANTS}, SAFE_ATTRIBUTES | allowed)
    scope: dict[str, Any] = {**CONSTANTS, **bound, "__builtins__": dict(SAFE_BUILTINS)}
    exec(code, scope)  # noqa: S102 - checked above
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    found = []
    for name in names:
        if identifier(name) not in defined:
            raise UnsafeGeneratedSource(f"the generated source defines no function {name!r}")
        found.append(scope[name])
    return tuple(found)


PARSE_ATTEMPTS = 3


def _parse(source: str, filename: str) -> tuple[ast.Module, CodeType]:
    """Parse and compile ``source``, one thread at a time, retrying CPython 3.11's race.

    CPython 3.11 keeps the AST converter's recursion depth in interpreter-wide state: two
    threads building ASTs at once can fail with "AST constructor recursion depth mismatch"
    (seen when a console backtest compiled a strategy beside a request). Our own parses take
    the lock; the standard library's do not (3.11's traceback formatting parses each source
    line it underlines, in whatever thread logs an exception). A mismatch says nothing about
    the source, so the parse is tried again.
    """
    for _ in range(PARSE_ATTEMPTS - 1):
        try:
            return _parse_once(source, filename)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc):
                raise
    return _parse_once(source, filename)


def _parse_once(source: str, filename: str) -> tuple[ast.Module, CodeType]:
    with _PARSE_LOCK:
        tree = ast.parse(source, filename=filename, mode="exec")
        return tree, compile(tree, filename, "exec")


def compile_function(
    source: str,
    name: str,
    *,
    namespace: Mapping[str, Any] | None = None,
    attributes: Iterable[str] = (),
    label: str = "generated",
    max_chars: int = MAX_SOURCE_CHARS,
) -> Callable[..., Any]:
    """:func:`compile_functions` for a source that defines one function."""
    (function,) = compile_functions(
        source,
        (name,),
        namespace=namespace,
        attributes=attributes,
        label=label,
        max_chars=max_chars,
    )
    return function
