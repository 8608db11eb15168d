"""A small safe expression language, parsed once and compiled into closures (never ``eval``).

Grammar (lowest to highest precedence)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | STRING | "true" | "false" | "null" | NAME | NAME "(" args ")" | "(" expr ")"

Names are the strategy's declared inputs and computed values; the functions are a fixed list.
There is no attribute access, indexing, randomness or I/O, so a document cannot run code.
``null`` (a missing value) propagates through arithmetic and makes comparisons false, and a
division by zero or a ``log`` of a non-positive number is ``null`` rather than an error: a
decision is a value, and a missing feature must not crash it.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from puhui.codegen import compile_function
from puhui.decision.errors import InvalidExpression

Value = float | int | str | bool | None
Env = Mapping[str, Value]
Evaluator = Callable[[Env], Value]


class ExpressionError(InvalidExpression):
    """An expression does not parse, or names something unknown; ``position`` is 0-based."""

    def __init__(self, message: str, *, text: str, position: int) -> None:
        super().__init__(
            f"{message} at column {position + 1} of {text!r}", details={"position": position}
        )
        self.position = position


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|==|!=|[-+*/<>(),])
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenise(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            offset = position + len(text[position:]) - len(text[position:].lstrip())
            raise ExpressionError(
                f"unexpected character {text[offset]!r}", text=text, position=offset
            )
        kind = match.lastgroup
        value = match.group(kind)
        tokens.append(_Token(kind, value, match.start(kind)))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _num(value: Value) -> float | int | None:
    # Booleans are not numbers here: `true + 1` is a mistake in a strategy, not 2.
    if value is None or isinstance(value, bool | str):
        return None
    return value


def _safe_log(a: float | int) -> float | None:
    return math.log(a) if a > 0 else None


def _safe_exp(a: float | int) -> float | None:
    # Above ~709 a float overflows; such a value is a modelling error, reported as null.
    return math.exp(a) if a < 709 else None


def _round(a: float | int, digits: float | int = 0) -> float | int:
    # Half-up on the decimal digits as written (1.005 -> 1.01), like the rest of the platform,
    # not Python's banker's rounding of the binary value.
    places = int(digits)
    rounded = Decimal(repr(a)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return int(rounded) if places <= 0 else float(rounded)


_NUMERIC_FUNCTIONS: dict[str, tuple[int, int, Callable[..., float | int | None]]] = {
    "min": (2, 99, min),
    "max": (2, 99, max),
    "abs": (1, 1, abs),
    "exp": (1, 1, _safe_exp),
    "log": (1, 1, _safe_log),
    "floor": (1, 1, math.floor),
    "ceil": (1, 1, math.ceil),
    "round": (1, 2, _round),
}
FUNCTIONS = frozenset({*_NUMERIC_FUNCTIONS, "if", "coalesce", "is_null"})


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression: its source, the names it reads, and its compiled evaluator."""

    source: str
    names: tuple[str, ...]
    evaluate: Evaluator


class _Parser:
    def __init__(self, text: str, known_names: frozenset[str] | None) -> None:
        self.text = text
        self.tokens = _tokenise(text)
        self.index = 0
        self.known = known_names
        self.names: list[str] = []

    def error(self, message: str, token: _Token | None = None) -> ExpressionError:
        token = token or self.tokens[self.index]
        return ExpressionError(message, text=self.text, position=token.position)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token.kind in ("op", "name") and token.text == text:
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            found = self.peek().text or "end of expression"
            raise self.error(f"expected {text!r} but found {found!r}")

    def parse(self) -> Evaluator:
        if self.peek().kind == "end":
            raise self.error("empty expression")
        result = self.parse_or()
        if self.peek().kind != "end":
            raise self.error(f"unexpected {self.peek().text!r}")
        return result

    def parse_or(self) -> Evaluator:
        left = self.parse_and()
        while self.accept("or"):
            right = self.parse_and()
            left = _or(left, right)
        return left

    def parse_and(self) -> Evaluator:
        left = self.parse_not()
        while self.accept("and"):
            right = self.parse_not()
            left = _and(left, right)
        return left

    def parse_not(self) -> Evaluator:
        if self.accept("not"):
            inner = self.parse_not()
            return lambda env: not _truthy(inner(env))
        return self.parse_compare()

    def parse_compare(self) -> Evaluator:
        left = self.parse_sum()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARE:
            self.take()
            right = self.parse_sum()
            return _compare(token.text, left, right)
        return left

    def parse_sum(self) -> Evaluator:
        left = self.parse_product()
        while self.peek().kind == "op" and self.peek().text in "+-":
            op = self.take().text
            right = self.parse_product()
            left = _arith(op, left, right)
        return left

    def parse_product(self) -> Evaluator:
        left = self.parse_unary()
        while self.peek().kind == "op" and self.peek().text in "*/":
            op = self.take().text
            right = self.parse_unary()
            left = _arith(op, left, right)
        return left

    def parse_unary(self) -> Evaluator:
        if self.accept("-"):
            inner = self.parse_unary()

            def negate(env: Env) -> Value:
                value = _num(inner(env))
                return None if value is None else -value

            return negate
        return self.parse_atom()

    def parse_atom(self) -> Evaluator:  # noqa: PLR0911
        token = self.take()
        if token.kind == "number":
            number: float | int = (
                float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
            )
            constant = lambda env: number  # noqa: E731 - registered below
            _LEAVES[constant] = ("const", number)
            return constant
        if token.kind == "string":
            text = token.text[1:-1]
            return lambda env: text
        if token.kind == "op" and token.text == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner
        if token.kind == "name":
            if token.text in ("true", "false"):
                flag = token.text == "true"
                return lambda env: flag
            if token.text == "null":
                return lambda env: None
            if token.text in _KEYWORDS:
                raise self.error(f"unexpected keyword {token.text!r}", token)
            if self.peek().kind == "op" and self.peek().text == "(":
                return self.parse_call(token)
            if self.known is not None and token.text not in self.known:
                raise self.error(f"unknown name {token.text!r}", token)
            name = token.text
            if name not in self.names:
                self.names.append(name)
            lookup = lambda env: env.get(name)  # noqa: E731 - registered below
            _LEAVES[lookup] = ("name", name)
            return lookup
        found = token.text or "end of expression"
        raise self.error(f"unexpected {found!r}", token)

    def parse_call(self, name_token: _Token) -> Evaluator:
        name = name_token.text
        if name not in FUNCTIONS:
            raise self.error(
                f"unknown function {name!r} (known: {', '.join(sorted(FUNCTIONS))})", name_token
            )
        self.expect("(")
        args: list[Evaluator] = []
        if not self.accept(")"):
            args.append(self.parse_or())
            while self.accept(","):
                args.append(self.parse_or())
            self.expect(")")
        return self.build_call(name_token, args)

    def build_call(self, token: _Token, args: list[Evaluator]) -> Evaluator:
        name = token.text
        if name == "if":
            if len(args) != 3:
                raise self.error("if(condition, then, else) takes 3 arguments", token)
            cond, then, other = args
            return lambda env: then(env) if _truthy(cond(env)) else other(env)
        if name == "coalesce":
            if len(args) < 2:
                raise self.error("coalesce takes at least 2 arguments", token)

            def coalesce(env: Env) -> Value:
                for arg in args:
                    value = arg(env)
                    if value is not None:
                        return value
                return None

            return coalesce
        if name == "is_null":
            if len(args) != 1:
                raise self.error("is_null takes 1 argument", token)
            (only,) = args
            return lambda env: only(env) is None
        low, high, function = _NUMERIC_FUNCTIONS[name]
        if not low <= len(args) <= high:
            raise self.error(f"{name} takes {low}..{high} arguments, got {len(args)}", token)

        def call(env: Env) -> Value:
            values = [_num(arg(env)) for arg in args]
            if any(v is None for v in values):
                return None
            return function(*values)

        return call


_COMPARE: dict[str, Callable[[float | int | str, float | int | str], bool]] = {
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _truthy(value: Value) -> bool:
    return value is True or (
        not isinstance(value, bool) and isinstance(value, int | float) and value != 0
    )


def _or(left: Evaluator, right: Evaluator) -> Evaluator:
    return lambda env: _truthy(left(env)) or _truthy(right(env))


def _and(left: Evaluator, right: Evaluator) -> Evaluator:
    return lambda env: _truthy(left(env)) and _truthy(right(env))


def _compare(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    function = _COMPARE[op]

    def compare(env: Env) -> Value:
        a, b = left(env), right(env)
        if a is None or b is None:
            return False
        if isinstance(a, str) != isinstance(b, str):
            # A string never equals a number; ordering them is meaningless, so false.
            return op == "!="
        return function(a, b)

    return compare


_NOT_NUMBERS = frozenset({str, bool, type(None)})


# Evaluators that are a name lookup or a numeric constant, so that arithmetic can read them
# inline (weak: an expression dropped with its strategy leaves nothing behind).
_LEAVES: weakref.WeakKeyDictionary[Evaluator, tuple[str, Value]] = weakref.WeakKeyDictionary()
_OPERAND = {"name": "env.get({0})", "const": "{0}", "expr": "{0}(env)"}
_ARITH_FACTORIES: dict[tuple[str, str, str], Callable[[Any, Any], Evaluator]] = {}


def _arith(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    """Arithmetic with the null/type guard; an operand that is a name or a constant is read
    inline rather than through its closure (computed values run on every decision).

    The function is generated from fixed fragments per (operator, operand kinds): the
    document's names and numbers are bound as the factory's arguments, never written into
    source.
    """
    left_kind, left_value = _LEAVES.get(left, ("expr", left))
    right_kind, right_value = _LEAVES.get(right, ("expr", right))
    key = (op, left_kind, right_kind)
    factory = _ARITH_FACTORIES.get(key)
    if factory is None:
        guard = "a.__class__ in skip or b.__class__ in skip" + (" or not b" if op == "/" else "")
        source = (
            "def factory(L, R):\n"
            "    def arith(env):\n"
            f"        a = {_OPERAND[left_kind].format('L')}\n"
            f"        b = {_OPERAND[right_kind].format('R')}\n"
            f"        if {guard}:\n"
            "            return None\n"
            f"        return a {op} b\n"
            "    return arith\n"
        )
        factory = _ARITH_FACTORIES[key] = compile_function(
            source, "factory", namespace={"skip": _NOT_NUMBERS}, label="arith"
        )
    return factory(left_value, right_value)


def _arith_closures(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    """The closures ``_arith`` generates its functions after (kept as the reference in tests)."""
    # One closure per operator with the null/type guard inlined: computed values run on every
    # decision, so the common case pays two calls and one set lookup per operand.
    skip = _NOT_NUMBERS
    if op == "+":

        def add(env: Env) -> Value:
            a, b = left(env), right(env)
            if a.__class__ in skip or b.__class__ in skip:
                return None
            return a + b  # type: ignore[operator]

        return add
    if op == "-":

        def subtract(env: Env) -> Value:
            a, b = left(env), right(env)
            if a.__class__ in skip or b.__class__ in skip:
                return None
            return a - b  # type: ignore[operator]

        return subtract
    if op == "*":

        def multiply(env: Env) -> Value:
            a, b = left(env), right(env)
            if a.__class__ in skip or b.__class__ in skip:
                return None
            return a * b  # type: ignore[operator]

        return multiply

    def divide(env: Env) -> Value:
        a, b = left(env), right(env)
        if a.__class__ in skip or b.__class__ in skip or not b:
            return None
        return a / b  # type: ignore[operator]

    return divide


def parse_expression(text: str, *, known_names: frozenset[str] | None = None) -> Expression:
    """Parse and compile ``text``; with ``known_names``, refuse any other name."""
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text", text=str(text), position=0)
    parser = _Parser(text, known_names)
    evaluate = parser.parse()
    return Expression(source=text, names=tuple(parser.names), evaluate=evaluate)
