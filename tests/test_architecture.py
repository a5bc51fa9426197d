"""The house rules of DESIGN.md §2, checked on the source with `ast` (nothing is imported or run).

    python -m pytest -q tests/test_architecture.py
    python tests/test_architecture.py          # prints the graph between minigpt's parts

A *part* is a top-level module or subpackage of minigpt (`minigpt.nn`, `minigpt.stages`,
`minigpt.evaluate`, ...). Every `import minigpt...` / `from minigpt... import` in the package counts
as an arrow from its file's part to the imported part: imports at the top of a file, inside a
function and inside an `if __name__ == "__main__":` demo alike. Checked:

  - no cycle between parts (arrows point down the layers; a demo may not import upward either);
  - at most MAX_LOCAL function-local `minigpt` imports in the whole package (the graph stays visible
    at the top of each file; optional heavy imports such as cupy or torch are not minigpt imports);
  - the optimizer step (`.backward()` ... `.step()` ... `.zero_grad()`) is written in one place;
  - the ignore index (-100, the target id the cross-entropy skips) is defined once.
"""
import ast
from collections import defaultdict
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "minigpt"
MAX_LOCAL = 15


# -----------------------------------------------------------------------------
# the import graph

def part_of(module):
    """'minigpt.stages.ppo' -> 'stages'; 'minigpt' -> 'minigpt' (the package's own __init__)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "minigpt"


def module_name(path):
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_main_guard(node):
    """True for `if __name__ == "__main__":`."""
    t = node.test
    return (isinstance(node, ast.If) and isinstance(t, ast.Compare) and isinstance(t.left, ast.Name)
            and t.left.id == "__name__" and any(isinstance(c, ast.Constant) and c.value == "__main__"
                                               for c in t.comparators))


def minigpt_imports(path):
    """[(imported module, where, line)] for the minigpt imports of one file; where is
    'top' (module level), 'function' (inside a def) or 'main' (inside the __main__ guard)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    out = []

    def visit(node, where):
        for child in ast.iter_child_nodes(node):
            w = where
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                w = "function" if where == "top" else where
            elif isinstance(child, ast.If) and _is_main_guard(child):
                w = "main"
            if isinstance(child, ast.Import):
                out.extend((a.name, w, child.lineno) for a in child.names if a.name.split(".")[0] == "minigpt")
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative import: resolve against this file's package
                    up = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                if base.split(".")[0] == "minigpt":
                    # `from minigpt import ops` imports the part `ops`, `from minigpt.nn import gpt` stays in nn
                    names = [base + "." + a.name if base == "minigpt" else base for a in child.names]
                    out.extend((n, w, child.lineno) for n in names)
            visit(child, w)

    visit(tree, "top")
    return out


def package_files():
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def import_graph():
    """{part: {imported part: [file:line, ...]}} over every minigpt import of the package."""
    graph = defaultdict(lambda: defaultdict(list))
    for path in package_files():
        src = part_of(module_name(path))
        for mod, where, line in minigpt_imports(path):
            dst = part_of(mod)
            if dst != src and src != "minigpt":  # the package __init__ re-exports; nothing imports it back
                graph[src][dst].append(f"{path.relative_to(PKG.parent)}:{line} ({where})")
    return graph


def find_cycles(graph):
    """Strongly connected components with more than one part (Tarjan), each sorted."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            strong(v)
    return comps


# -----------------------------------------------------------------------------
# the checks

def test_graph_finds_a_planted_cycle():
    """The cycle finder itself: a → b → c → a is one component, d hangs off it."""
    g = {"a": {"b": []}, "b": {"c": []}, "c": {"a": [], "d": []}, "d": {}}
    assert find_cycles(g) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b": []}, "b": {}}) == []


def test_no_import_cycles_between_parts():
    graph = import_graph()
    cycles = find_cycles(graph)
    detail = []
    for comp in cycles:
        for a in comp:
            for b in comp:
                if b in graph[a]:
                    detail.append(f"  {a} -> {b}: {', '.join(graph[a][b][:3])}")
    assert not cycles, "import cycles between minigpt's parts " + str(cycles) + ":\n" + "\n".join(detail)


def test_few_function_local_minigpt_imports():
    local = sorted({f"{p.relative_to(PKG.parent)}:{line}" for p in package_files()
                    for mod, where, line in minigpt_imports(p) if where == "function"})  # one per statement
    assert len(local) <= MAX_LOCAL, (f"{len(local)} function-local minigpt imports (at most {MAX_LOCAL}); "
                                     "move them to the top of the file:\n  " + "\n  ".join(local))


def _calls(tree, name):
    """Line numbers of the calls `<anything>.name(...)` in a syntax tree."""
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == name]


def writes_a_training_step(tree):
    """True if the code calls .backward(), .step() and .zero_grad(): it runs an optimizer step itself."""
    return all(_calls(tree, name) for name in ("backward", "step", "zero_grad"))


def optimizer_steps():
    """The package's files that write a training step."""
    return [str(p.relative_to(PKG.parent)) for p in package_files()
            if writes_a_training_step(ast.parse(p.read_text(encoding="utf-8")))]


def test_training_step_detector_on_planted_code():
    step = "loss.backward()\nclip_grad_norm(params, 1.0)\nopt.step()\nopt.zero_grad()\n"
    assert writes_a_training_step(ast.parse(step))
    assert not writes_a_training_step(ast.parse("loss.backward()\noptimizer_step(opt, 1.0)\n"))


def test_the_optimizer_step_is_written_once():
    steps = optimizer_steps()
    assert steps == ["minigpt/loop.py"], (
        f"backward/step/zero_grad in {len(steps)} places, expected only minigpt/loop.py: {steps}")


def _is_minus_100(node):
    return (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and node.operand.value == 100)


def test_one_ignore_index_definition():
    """-100 (the target id the cross-entropy skips) is named once; everyone else imports that name."""
    defs, bare = [], []
    for path in package_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        named = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _is_minus_100(node.value):
                defs.append(f"{path.relative_to(PKG.parent)}:{node.lineno}")
                named.add(id(node.value))
        bare += [f"{path.relative_to(PKG.parent)}:{n.lineno}" for n in ast.walk(tree)
                 if _is_minus_100(n) and id(n) not in named]
    assert len(defs) == 1, f"the ignore index -100 is defined {len(defs)} times: {defs}"
    assert not bare, f"-100 written bare (import IGNORE_INDEX from minigpt.ops instead): {bare}"


if __name__ == "__main__":
    g = import_graph()
    for a in sorted(g):
        print(f"{a:12s} -> {', '.join(sorted(g[a]))}")
    print("cycles:", find_cycles(g))
    local = sorted({(str(p.relative_to(PKG.parent)), line) for p in package_files()
                    for mod, where, line in minigpt_imports(p) if where == "function"})
    print(len(local), "function-local minigpt imports:", *local)
    print("optimizer steps:", optimizer_steps())
