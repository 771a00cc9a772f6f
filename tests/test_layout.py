"""The code's shape: no import cycles among backissue's modules, and `bot health` stays light."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """Module → the backissue modules it imports, at any depth in the file (function-local imports count)."""
    files = [*ROOT.glob("bot/**/*.py"), *ROOT.glob("index/**/*.py")]
    modules = {_module_name(p) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                if target in modules and target != name:
                    deps.add(target)
        # a package's own __init__ is imported before any of its modules: not an edge worth walking
        graph[name] = {d for d in deps if not name.startswith(d + ".")}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep):], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_imports_itself_through_others():
    graph = _graph()
    assert len(graph) > 40  # the walk found the tree
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_index_library_never_imports_the_application():
    graph = _graph()
    leaks = {m: sorted(d for d in deps if d.startswith("bot")) for m, deps in graph.items() if m.startswith("index")}
    assert not any(leaks.values()), leaks


def test_bot_health_loads_neither_torch_nor_chroma_nor_bm25(tmp_path):
    """The container runs `bot health` every 60 s: it reads one small file and must not load the index stack."""
    (tmp_path / "config.toml").write_text(f'data_dir = "{tmp_path / "data"}"\n')
    probe = ("import runpy, sys, json\n"
             "sys.argv = ['bot', '--config', sys.argv[1], 'health']\n"
             "try:\n    runpy.run_module('bot', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "heavy = {'torch', 'chromadb', 'bm25s', 'sentence_transformers'}\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)), file=sys.stderr)\n"
             )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "config.toml")], capture_output=True, text=True,
                         env=env, timeout=60)
    assert "unhealthy: the bot has not reported yet" in out.stderr
    assert json.loads(out.stderr.strip().splitlines()[-1]) == []
