"""The package's layout rules (DESIGN §6): small modules and no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The sim modules ``path`` imports, at module level or inside functions (a lazy import is still a dependency)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            # ``from sim import shocks`` imports the module sim.shocks.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def _graph() -> dict[str, set[str]]:
    paths = sorted(SIM.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, modules) for p in paths}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            # A package's __init__ importing its own submodules is how packages work, not a cycle.
            if d.startswith(m + "."):
                continue
            if state.get(d) == 1:
                return [*stack[stack.index(d) :], d]
            if d not in state and (found := visit(d)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_module_under_sim_is_too_long():
    long = {
        str(p.relative_to(SIM.parent)): n
        for p in SIM.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_import_cycle_in_sim():
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_readme_names_every_module_where_things_are():
    # "Where things are": a reader finds a module from the table, so a new module must be named in its row
    # (the built-in policies, each in its own module, are named by the row's "one module per built-in policy").
    import re

    from sim.policies import BUILT_IN

    readme = (SIM.parent / "README.md").read_text(encoding="utf-8").splitlines()
    for folder in sorted({p.parent for p in SIM.rglob("__init__.py")}):
        # A package of sim/ has its own row; one nested deeper (sim/experiment/report) is named in its
        # parent's row, as `report/` followed by its modules.
        own = folder == SIM or folder.parent == SIM
        label = (folder if own else folder.parent).relative_to(SIM.parent).as_posix()
        row = next(line for line in readme if line.startswith(f"| `{label}/` |"))
        if not own:
            row = row[row.index(f"`{folder.name}/`") :]
        named = set(re.findall(r"`([a-z_]+)`", row))
        modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "__main__"}
        if folder.name == "policies":
            modules -= set(BUILT_IN)
        assert modules <= named, f"README's row for {label}/ does not name {sorted(modules - named)} of {folder.name}/"
