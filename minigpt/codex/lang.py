r"""Toy: a tiny integer language for the Codex lesson, with an interpreter that is its own sandbox.

Codex (Chen et al. 2021) judged generated programs by *running* them on unit tests, inside a
sandbox (gVisor) with no network and a time limit, because model-written code may loop forever or
touch the machine. We get the same guarantees more simply: the model writes programs in Toy, and
Toy is interpreted here by a few dozen lines of Python. Toy has no strings, files, imports,
attributes or networking; its only values are integers. A program can do nothing but arithmetic on
its own variables, so there is nothing to escape to. Python's `exec`/`eval` are never called.

    program := stmt (';' stmt)*             newlines count as ';'
    stmt    := NAME '=' expr
             | 'while' expr '{' program '}'
             | 'if' expr '{' program '}' ['else' '{' program '}']
             | 'return' expr
    expr    := precedence climbing over  or < and < not < (== != < <= > >=) < (+ -) < (* / %) < unary -
    atom    := INT | NAME | '(' expr ')' | abs(expr) | min(expr, expr) | max(expr, expr)

Semantics: integers only; `/` and `%` floor like Python's // and %; comparisons give 1 or 0;
reading an unset variable, dividing by zero or leaving |value| > 10^18 is a runtime error.

Limits that make it safe to run anything the model writes:
  - a *step budget* (every statement and every expression node costs one step): an infinite loop
    stops with error "timeout" after `max_steps`, deterministically;
  - a wall-clock deadline checked every 256 steps, as a second line of defence;
  - source length and nesting depth caps, so parsing cannot blow Python's stack.

    python -m minigpt.codex "s = 0; while x > 0 { s = s + x; x = x - 1 }; return s" 4     # -> 10
"""
import re
import time
from dataclasses import dataclass

MAX_SOURCE = 2000  # characters
MAX_DEPTH = 40  # nesting of blocks/parentheses
MAX_ABS = 10**18  # values must stay within ±MAX_ABS
KEYWORDS = {"while", "if", "else", "return", "and", "or", "not"}
FUNCTIONS = {"abs": 1, "min": 2, "max": 2}  # the only callables: name -> arity


class ToyError(Exception):
    """A program failed; `kind` is "syntax", "runtime" or "timeout"."""

    def __init__(self, kind, msg):
        super().__init__(msg)
        self.kind = kind


@dataclass
class RunResult:
    value: int = None  # the returned integer (None if the program failed)
    error: str = None  # None, "syntax", "runtime" or "timeout"
    message: str = ""  # what went wrong, for people
    steps: int = 0  # steps used

    @property
    def ok(self):
        return self.error is None


# -----------------------------------------------------------------------------
# lexer

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|[-+*/%<>=(){},;]))", re.ASCII)


def tokenize(src):
    """Source → list of (kind, text); kind ∈ int, name, kw, op. Example: "x=1" → [(name,x), (op,=), (int,1)]."""
    if len(src) > MAX_SOURCE:
        raise ToyError("syntax", f"program longer than {MAX_SOURCE} characters")
    src = src.replace("\n", ";")  # newlines separate statements
    out, pos = [], 0
    while pos < len(src):
        if src[pos:].strip() == "":
            break
        m = _TOKEN.match(src, pos)
        if m is None or m.end() == pos:
            bad = src[pos:].lstrip()[:1]
            raise ToyError("syntax", f"unexpected character {bad!r} at {pos}")
        num, name, op = m.groups()
        if num is not None:
            out.append(("int", num))
        elif name is not None:
            out.append(("kw" if name in KEYWORDS else "name", name))
        else:
            out.append(("op", op))
        pos = m.end()
    return out


# -----------------------------------------------------------------------------
# parser: tokens → nested tuples (the AST)

class _Parser:
    def __init__(self, tokens):
        self.toks, self.i, self.depth = tokens, 0, 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", "")

    def take(self, text=None):
        tok = self.peek()
        if text is not None and tok[1] != text:
            raise ToyError("syntax", f"expected {text!r}, got {tok[1] or 'end of program'!r}")
        if tok[0] == "eof":
            raise ToyError("syntax", "unexpected end of program")
        self.i += 1
        return tok

    def nest(self, d):
        self.depth += d
        if self.depth > MAX_DEPTH:
            raise ToyError("syntax", f"nesting deeper than {MAX_DEPTH}")

    def program(self, end=("eof", "")):
        """Statements up to (not including) the token `end`: ("eof", "") or ("op", "}")."""
        stmts = []
        while True:
            while self.peek() == ("op", ";"):
                self.i += 1
            if self.peek() == end:
                return ("seq", stmts)
            if self.peek()[0] == "eof":
                raise ToyError("syntax", "unexpected end of program: missing '}'")
            stmts.append(self.statement())
            if self.peek() not in (("op", ";"), end, ("eof", "")):
                raise ToyError("syntax", f"expected ';' between statements, got {self.peek()[1]!r}")

    def block(self):
        self.take("{")
        self.nest(1)
        body = self.program(end=("op", "}"))
        self.take("}")
        self.nest(-1)
        return body

    def statement(self):
        kind, text = self.peek()
        if text == "while":
            self.take()
            return ("while", self.expr(), self.block())
        if text == "if":
            self.take()
            cond, then = self.expr(), self.block()
            other = ("seq", [])
            if self.peek()[1] == "else":
                self.take()
                other = self.block()
            return ("if", cond, then, other)
        if text == "return":
            self.take()
            return ("return", self.expr())
        if kind == "name":
            self.take()
            self.take("=")
            return ("set", text, self.expr())
        raise ToyError("syntax", f"a statement cannot start with {text!r}")

    # precedence climbing: each level calls the next tighter one
    LEVELS = (("or",), ("and",), ("==", "!=", "<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%"))

    def expr(self, level=0):
        if level == 2 and self.peek()[1] == "not":  # `not` binds looser than comparisons
            self.take()
            return ("not", self.expr(2))
        if level == len(self.LEVELS):
            return self.unary()
        left = self.expr(level + 1)
        while self.peek()[1] in self.LEVELS[level] and self.peek()[0] in ("op", "kw"):
            op = self.take()[1]
            left = ("bin", op, left, self.expr(level + 1))
        return left

    def unary(self):
        if self.peek()[1] == "-":
            self.take()
            self.nest(1)
            e = ("neg", self.unary())
            self.nest(-1)
            return e
        return self.atom()

    def atom(self):
        kind, text = self.take()
        if kind == "int":
            return ("int", int(text))
        if kind == "op" and text == "(":
            self.nest(1)
            e = self.expr()
            self.take(")")
            self.nest(-1)
            return e
        if kind == "name" and self.peek()[1] == "(":
            if text not in FUNCTIONS:
                raise ToyError("syntax", f"unknown function {text!r}; Toy has only {sorted(FUNCTIONS)}")
            self.take("(")
            self.nest(1)
            args = [self.expr()]
            while self.peek()[1] == ",":
                self.take()
                args.append(self.expr())
            self.take(")")
            self.nest(-1)
            if len(args) != FUNCTIONS[text]:
                raise ToyError("syntax", f"{text}() takes {FUNCTIONS[text]} argument(s), got {len(args)}")
            return ("call", text, args)
        if kind == "name":
            return ("var", text)
        raise ToyError("syntax", f"expected a number, name or '(', got {text!r}")


def parse(src):
    """Source → AST (nested tuples). Raises ToyError("syntax", ...) on anything outside the grammar."""
    p = _Parser(tokenize(src))
    return p.program()


# -----------------------------------------------------------------------------
# interpreter

class _Return(Exception):
    def __init__(self, value):
        self.value = value


class _Machine:
    def __init__(self, env, max_steps, deadline):
        self.env, self.max_steps, self.deadline, self.steps = env, max_steps, deadline, 0

    def tick(self):
        self.steps += 1
        if self.steps > self.max_steps:
            raise ToyError("timeout", f"step budget of {self.max_steps} exhausted (infinite loop?)")
        if self.steps % 256 == 0 and time.perf_counter() > self.deadline:
            raise ToyError("timeout", "wall-clock time limit exceeded")

    def run(self, node):
        self.tick()
        op = node[0]
        if op == "seq":
            for s in node[1]:
                self.run(s)
        elif op == "set":
            self.env[node[1]] = self.eval(node[2])
        elif op == "while":
            while self.eval(node[1]):
                self.run(node[2])
                self.tick()
        elif op == "if":
            self.run(node[2] if self.eval(node[1]) else node[3])
        elif op == "return":
            raise _Return(self.eval(node[1]))

    def eval(self, node):
        self.tick()
        op = node[0]
        if op == "int":
            v = node[1]
        elif op == "var":
            if node[1] not in self.env:
                raise ToyError("runtime", f"variable {node[1]!r} used before it was set")
            v = self.env[node[1]]
        elif op == "neg":
            v = -self.eval(node[1])
        elif op == "not":
            v = int(not self.eval(node[1]))
        elif op == "call":
            args = [self.eval(a) for a in node[2]]
            v = {"abs": abs, "min": min, "max": max}[node[1]](*args)
        else:  # ("bin", op, left, right)
            v = self._binary(node[1], node[2], node[3])
        if abs(v) > MAX_ABS:
            raise ToyError("runtime", "value out of range (|v| > 10^18)")
        return v

    def _binary(self, op, left, right):
        a = self.eval(left)
        if op == "and":  # short-circuit
            return int(bool(a) and bool(self.eval(right)))
        if op == "or":
            return int(bool(a) or bool(self.eval(right)))
        b = self.eval(right)
        if op in "/%" and b == 0:
            raise ToyError("runtime", "division by zero")
        return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a // b,
                "%": lambda: a % b, "==": lambda: int(a == b), "!=": lambda: int(a != b),
                "<": lambda: int(a < b), "<=": lambda: int(a <= b), ">": lambda: int(a > b),
                ">=": lambda: int(a >= b)}[op]()


def run_program(src, inputs=None, max_steps=10_000, timeout_s=1.0):
    """Run Toy source with integer `inputs` (e.g. {"x": 3}) → RunResult. Never raises for bad programs.

    Example: run_program("y = x * 2; return y + 1", {"x": 3}) → RunResult(value=7, error=None, ...).
    """
    env = {}
    for k, v in (inputs or {}).items():
        if not isinstance(k, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) or k in KEYWORDS:
            raise ValueError(f"input names must be Toy identifiers, got {k!r}")
        env[k] = int(v)
    try:
        tree = parse(src)
    except ToyError as e:
        return RunResult(error=e.kind, message=str(e))
    m = _Machine(env, max_steps, time.perf_counter() + timeout_s)
    try:
        m.run(tree)
    except _Return as r:
        return RunResult(value=r.value, steps=m.steps)
    except ToyError as e:
        return RunResult(error=e.kind, message=str(e), steps=m.steps)
    except RecursionError:  # unreachable with MAX_DEPTH, kept as a guard
        return RunResult(error="runtime", message="nesting too deep", steps=m.steps)
    return RunResult(error="runtime", message="program ended without 'return'", steps=m.steps)


