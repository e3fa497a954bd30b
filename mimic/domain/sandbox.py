"""The jinja2 sandbox templates run in, with the resource bounds the stock sandbox lacks.

`SandboxedEnvironment` keeps templates away from Python internals; it does nothing about how
much memory or CPU they use, and one template (saved by any organisation) that allocates a
gigabyte or loops for an hour stops mimic for everyone. So, on top of it:

* values have no methods (`name.ljust(10**9)`); the filters do what templates need, and the
  ones that can grow their input (center, indent, format, replace, join, wordwrap, batch,
  slice, tojson) check their arguments or the size of their result before building it;
  `random` is gone, since a render must be repeatable;
* `%` formatting, `+`, `*` and `**` are bounded the same way;
* loops nest at most `MAX_LOOP_DEPTH` deep, are never recursive, and all the loops of one
  render take at most `MAX_ITERATIONS` steps together;
* `{% set %}` and `{% with %}` hold only plain values of at most `MAX_VALUE_CHARS` characters
  (so sizes cannot compound through assignments), and there are no macros, call blocks, blocks,
  block assignments, includes, imports or inheritance (no recursion, no other templates).

What is left runs in time and memory proportional to the template's source and its variables.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS
from jinja2.runtime import LoopContext, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import pass_eval_context
from jinja2.visitor import NodeTransformer

MAX_OUTPUT_CHARS: Final = 1_000_000
MAX_VALUE_CHARS: Final = 100_000
MAX_RANGE: Final = 1_000
MAX_LOOP_DEPTH: Final = 2
MAX_ITERATIONS: Final = 10_000
MAX_WIDTH: Final = 1_000
MAX_POWER_EXPONENT: Final = 64
MAX_INTEGER_BITS: Final = 4096

LOOP_GUARD: Final = "_mimic_loop"
VALUE_GUARD: Final = "_mimic_value"
CONCAT_GUARD: Final = "_mimic_concat"


class Unsafe(Exception):
    """The template's structure is refused (raised at compile time, with the part's name)."""


# ------------------------------------------------------------------------------ sizes
def _too_big(what: str) -> SecurityError:
    return SecurityError(f"{what} would be too large")


def _check_chars(size: int, what: str, limit: int = MAX_OUTPUT_CHARS) -> None:
    if size > limit:
        raise _too_big(what)


def _check_bits(bits: int) -> None:
    # Chained powers ((9**64)**64)**64 grow past any sane number; refuse before computing.
    if bits > MAX_INTEGER_BITS:
        raise SecurityError("number too large")


def _check_width(value: Any, what: str) -> None:
    width = len(value) if isinstance(value, str) else value
    if isinstance(width, int) and not isinstance(width, bool) and abs(width) > MAX_WIDTH:
        raise SecurityError(f"{what} is larger than {MAX_WIDTH}")


# `%` conversions: a width or precision (or `*`, taken from the arguments) sizes the output.
_PERCENT_SPEC: Final = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent_format(template: str) -> None:
    for match in _PERCENT_SPEC.finditer(template.replace("%%", "")):
        for number in match.groups():
            if number == "*":
                raise SecurityError("'*' widths are not allowed in % formats")
            if number is not None and int(number) > MAX_WIDTH:
                raise SecurityError(f"a % format width is larger than {MAX_WIDTH}")


# ------------------------------------------------------------------------------ filters
def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _guarded_filter(
    name: str, check: Callable[[tuple[Any, ...], dict[str, Any]], None]
) -> Callable[..., Any]:
    """The stock filter `name`, run only once `check(args, kwargs)` passes; `args` starts with
    the filtered value (any context jinja passes first is left out)."""
    original = FILTERS[name]
    pass_arg = getattr(original, "jinja_pass_arg", None)
    skip = 1 if pass_arg is not None else 0

    def guarded(*args: Any, **kwargs: Any) -> Any:
        check(args[skip:], kwargs)
        return original(*args, **kwargs)

    if pass_arg is not None:
        guarded.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    return guarded


def _center(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _check_width(_arg(args, kwargs, 1, "width", 80), "the center width")


def _indent(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = _arg(args, kwargs, 1, "width", 4)
    _check_width(width, "the indent width")
    text = str(args[0]) if args else ""
    step = len(width) if isinstance(width, str) else int(width)
    _check_chars(len(text) + (text.count("\n") + 1) * max(step, 0), "the indented text")


def _format(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _check_percent_format(str(args[0]) if args else "")


def _replace(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    text, old, new = (
        str(_arg(args, kwargs, i, n, "")) for i, n in ((0, "s"), (1, "old"), (2, "new"))
    )
    count = _arg(args, kwargs, 3, "count", None)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    _check_chars(len(text) + found * max(len(new) - len(old), 0), "the replaced text")


def _wordwrap(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    text = str(args[0]) if args else ""
    width = _arg(args, kwargs, 1, "width", 79)
    wrap = _arg(args, kwargs, 3, "wrapstring", None)
    if not isinstance(width, int) or width < 1:
        raise SecurityError("the wordwrap width must be a positive number")
    lines = len(text) // width + text.count("\n") + 1
    _check_chars(len(text) + lines * len(str(wrap or "\n")), "the wrapped text")


def _batch(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _check_width(_arg(args, kwargs, 1, "linecount", 1), "the batch size")


def _slice(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _check_width(_arg(args, kwargs, 1, "slices", 1), "the number of slices")


def _tojson(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    indent = _arg(args, kwargs, 1, "indent", None)
    if indent is not None and (not isinstance(indent, int) or not 0 <= indent <= 8):
        raise SecurityError("the tojson indent must be 0 to 8")


_CHECKS: Final[dict[str, Callable[[tuple[Any, ...], dict[str, Any]], None]]] = {
    "center": _center,
    "indent": _indent,
    "format": _format,
    "replace": _replace,
    "wordwrap": _wordwrap,
    "batch": _batch,
    "slice": _slice,
    "tojson": _tojson,
}


def _filters() -> dict[str, Callable[..., Any]]:
    filters = {name: f for name, f in FILTERS.items() if name != "random"}
    filters.update({name: _guarded_filter(name, check) for name, check in _CHECKS.items()})
    filters["join"] = _join
    return filters


# ------------------------------------------------------------------------------ loops and values
_BUDGET: ContextVar[list[int] | None] = ContextVar("mimic_template_budget", default=None)


@contextmanager
def render_budget() -> Iterator[None]:
    """Count the loop steps of one render (every render runs inside one)."""
    token = _BUDGET.set([MAX_ITERATIONS])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _loop(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = _BUDGET.get()
    if budget is None:
        raise SecurityError("templates render only inside a budget")
    for item in iterable:
        budget[0] -= 1
        if budget[0] < 0:
            raise SecurityError(f"the loops took more than {MAX_ITERATIONS} steps")
        yield item


_PLAIN: Final = (str, int, float, bool, type(None))


def _value(value: Any) -> Any:
    if not isinstance(value, _PLAIN):
        raise SecurityError("set and with hold only text, numbers and booleans")
    if isinstance(value, str):
        _check_chars(len(value), "the assigned text", MAX_VALUE_CHARS)
    return value


@pass_eval_context
def _concat(eval_ctx: Any, *parts: Any) -> str:
    """`a ~ b ~ ...`, sized before it is built (one expression may name a variable many times)."""
    _check_chars(sum(len(p) if isinstance(p, str) else 32 for p in parts), "the joined text")
    joined: str = markup_join(parts) if eval_ctx.autoescape else str_join(parts)
    return joined


@pass_eval_context
def _join(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    items = list(value)
    _check_chars(len(items) * len(str(d)), "the joined text")
    joined: str = FILTERS["join"](eval_ctx, items, d, attribute)
    return joined


def _bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise SecurityError(f"range longer than {MAX_RANGE}")
    return result


# ------------------------------------------------------------------------------ the environment
class Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*", "%", "+"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # No methods of values; a loop's own helpers (loop.cycle) are fine.
        if callable(value) and not isinstance(obj, LoopContext):
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**":
            if isinstance(right, int | float) and abs(right) > MAX_POWER_EXPONENT:
                raise SecurityError("exponent too large")
            if isinstance(left, int) and isinstance(right, int):
                _check_bits(abs(left).bit_length() * max(right, 0))
            return operator.pow(left, right)
        if op == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    _check_chars(len(seq) * times, "the repetition")
            if isinstance(left, int) and isinstance(right, int):
                _check_bits(abs(left).bit_length() + abs(right).bit_length())
            return operator.mul(left, right)
        if op == "%" and isinstance(left, str):
            _check_percent_format(left)
            return super().call_binop(context, op, left, right)
        if op == "+" and isinstance(left, str | list | tuple) and hasattr(right, "__len__"):
            _check_chars(len(left) + len(right), "the sum")
        return super().call_binop(context, op, left, right)


def environment(*, html: bool) -> Sandbox:
    env = Sandbox(
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
    )
    env.filters = _filters()
    env.globals = {
        "range": _bounded_range,
        LOOP_GUARD: _loop,
        VALUE_GUARD: _value,
        CONCAT_GUARD: _concat,
    }
    return env


def _finalize(value: Any) -> Any:
    # An optional variable left out renders as nothing, not as "None".
    return "" if value is None else value


# ------------------------------------------------------------------------------ structure
_REFUSED: Final = (
    (nodes.Extends, "inherit from other templates"),
    (nodes.Include, "include other templates"),
    (nodes.Import, "import other templates"),
    (nodes.FromImport, "import other templates"),
    (nodes.Macro, "define macros"),
    (nodes.CallBlock, "use call blocks"),
    (nodes.AssignBlock, "assign blocks ({% set %}...{% endset %})"),
    (nodes.Block, "define blocks"),
)


def _guard(name: str, *args: nodes.Node, lineno: int) -> nodes.Call:
    return nodes.Call(
        nodes.Name(name, "load", lineno=lineno), list(args), [], None, None, lineno=lineno
    )


class _Guards(NodeTransformer):
    """Every loop, assignment and `~` of a template through its guard."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _guard(LOOP_GUARD, node.iter, lineno=node.lineno)
        return node

    def visit_Assign(self, node: nodes.Assign) -> nodes.Node:
        self.generic_visit(node)
        node.node = _guard(VALUE_GUARD, node.node, lineno=node.lineno)
        return node

    def visit_With(self, node: nodes.With) -> nodes.Node:
        self.generic_visit(node)
        node.values = [_guard(VALUE_GUARD, v, lineno=node.lineno) for v in node.values]
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _guard(CONCAT_GUARD, *node.nodes, lineno=node.lineno)


def harden(tree: nodes.Template) -> nodes.Template:
    """`tree` with every loop, assignment and `~` routed through its guard; `Unsafe` for what
    the bounds above cannot make safe."""
    for kind, what in _REFUSED:
        for node in tree.find_all(kind):
            raise Unsafe(f"templates cannot {what} (line {node.lineno})")

    def depth(node: nodes.Node, level: int) -> None:
        if isinstance(node, nodes.For):
            level += 1
            if node.recursive:
                raise Unsafe(f"loops cannot be recursive (line {node.lineno})")
            if level > MAX_LOOP_DEPTH:
                raise Unsafe(f"loops nest deeper than {MAX_LOOP_DEPTH} (line {node.lineno})")
        for child in node.iter_child_nodes():
            depth(child, level)

    depth(tree, 0)
    hardened: nodes.Template = _Guards().visit(tree)
    return hardened
