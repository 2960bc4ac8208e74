"""Import directions (docs/architecture.md), read from the source with `ast`, every import counted: at module
level, inside functions (lazy imports) and under `if TYPE_CHECKING:`.

* index/ (the engine) never imports discord, cogs/, store/ or any top-level module;
* store/ never imports discord, cogs/ or any top-level module;
* cogs/ never import bot.py, cli/, doctor.py or bench/, and client.py only for types (client imports cogs);
* bench/ (a tool measuring the engine and the store) imports index/ and store/ only;
* the top-level modules form the tree config <- lifecycle <- client <- bot, with doctor over config and
  lifecycle and cli over config, doctor and bench; nothing imports bot.py (the console script calls bot.main).

The checker is tested on a synthetic tree with back edges planted, so a rule that could never fire would show.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from .conftest import ROOT

PACKAGES = ("index", "store", "cogs", "cli", "bench")
TOP_LEVEL = ("bot", "config", "lifecycle", "client", "doctor", "cli", "bench")

# Which top-level modules each top-level module may import (besides itself and the index/store/cogs packages).
TOP_LEVEL_EDGES: dict[str, set[str]] = {
    "config": set(),
    "lifecycle": set(),
    "client": {"config", "lifecycle"},
    "doctor": {"config", "lifecycle"},
    "bench": set(),
    "cli": {"config", "doctor", "bench"},
    "bot": {"config", "cli", "client", "lifecycle"},
}
# What a layer never imports.
FORBIDDEN: dict[str, set[str]] = {
    "index": {"discord", "cogs", "store", *TOP_LEVEL},
    "store": {"discord", "cogs", *TOP_LEVEL},
    "cogs": {"bot", "cli", "doctor", "bench", "client"},
    "bench": {"discord", "cogs", *TOP_LEVEL} - {"bench"},
}
TYPE_ONLY_ALLOWED = {("cogs", "client")}  # a cog names FootnoteBot in annotations; client.py imports the cogs


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name, e.g. "index.engine"
    target: str  # dotted name imported, e.g. "discord.ext.commands"
    type_only: bool
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(root: Path, path: Path) -> list[Import]:
    """Every import in the file, with relative imports resolved against its package."""
    name = module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_stmt(stmt, True)
                for stmt in child.orelse:
                    visit_stmt(stmt, type_only)
                continue
            visit_stmt(child, type_only)

    def visit_stmt(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(name, alias.name, type_only, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if node.module is None:  # `from . import x`: x is a module of the package
                found.extend(Import(name, f"{target}.{alias.name}", type_only, node.lineno) for alias in node.names)
            else:
                found.append(Import(name, target, type_only, node.lineno))
        else:
            visit(node, type_only)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), False)
    return found


def source_files(root: Path) -> list[Path]:
    files = [root / f"{m}.py" for m in TOP_LEVEL if (root / f"{m}.py").exists()]
    for package in PACKAGES:
        if (root / package).is_dir():
            files.extend(sorted((root / package).rglob("*.py")))
    return files


def violations(root: Path) -> list[str]:
    """Every import that goes against the directions above, as `path:line: importer imports target (rule)`."""
    found = []
    for path in source_files(root):
        for imp in imports_of(root, path):
            layer, target = imp.importer.split(".")[0], imp.target.split(".")[0]
            where = f"{path.relative_to(root)}:{imp.line}: {imp.importer} imports {imp.target}"
            if target == layer:
                continue
            if target in FORBIDDEN.get(layer, ()) and not (imp.type_only and (layer, target) in TYPE_ONLY_ALLOWED):
                found.append(f"{where} ({layer}/ never imports {target})")
            elif layer in TOP_LEVEL_EDGES and target in TOP_LEVEL_EDGES and target not in TOP_LEVEL_EDGES[layer]:
                found.append(f"{where} (the top-level graph is a tree: {layer} may import {TOP_LEVEL_EDGES[layer]})")
    return found


def test_the_code_follows_the_import_directions():
    assert violations(ROOT) == []


def test_the_top_level_graph_is_a_tree_rooted_in_config_and_nothing_imports_bot():
    assert all("bot" not in targets for targets in TOP_LEVEL_EDGES.values())
    done: set[str] = set()

    def depth(module: str, path: tuple[str, ...] = ()) -> int:
        assert module not in path, f"import cycle {' -> '.join((*path, module))}"
        return 1 + max((depth(t, (*path, module)) for t in TOP_LEVEL_EDGES[module]), default=0)

    for module in TOP_LEVEL_EDGES:
        depth(module)
        done.add(module)
    assert done == set(TOP_LEVEL) and depth("bot") == 4  # bot -> cli -> doctor -> config (or lifecycle)
    used = {
        (imp.importer.split(".")[0], imp.target.split(".")[0])
        for path in source_files(ROOT)
        for imp in imports_of(ROOT, path)
    }
    for importer, targets in TOP_LEVEL_EDGES.items():
        for target in targets:
            assert (importer, target) in used, f"the rule {importer} -> {target} describes no real import"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_finds_back_edges_planted_in_a_synthetic_tree(tmp_path):
    _write(
        tmp_path,
        {
            "index/__init__.py": "",
            "index/fine.py": "from . import helpers\nfrom index.errors import UserFacingError\nimport numpy\n",
            "index/bad.py": "import discord\nfrom cogs.render import embed\nfrom ..store import Store\n",
            "index/lazy.py": "def f():\n    import bot\n    return bot\n",
            "index/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from discord import Embed\n",
            "store/__init__.py": "from discord.utils import escape_markdown\n",
            "cogs/__init__.py": "",
            "cogs/ok.py": "from typing import TYPE_CHECKING\nfrom lifecycle import tracking\n"
            "if TYPE_CHECKING:\n    from client import FootnoteBot\n",
            "cogs/back.py": "from bot import start_bot\nfrom client import FootnoteBot\n",
            "config.py": "from cli import main\n",
            "lifecycle.py": "import config\n",
            "client.py": "import config, lifecycle\n",
            "bot.py": "import cli, client, config, lifecycle\n",
            "cli/__init__.py": "from cli import commands\n",
            "cli/commands.py": "def run():\n    from client import FootnoteBot\n",
            "bench/__init__.py": "from index.engine import Engine\nfrom store import Store\nfrom cogs import setup\n",
        },
    )
    found = {line.split(" (")[0] for line in violations(tmp_path)}
    assert found == {
        "index/bad.py:1: index.bad imports discord",
        "index/bad.py:2: index.bad imports cogs.render",
        "index/bad.py:3: index.bad imports store",
        "index/lazy.py:2: index.lazy imports bot",
        "index/typed.py:3: index.typed imports discord",
        "store/__init__.py:1: store imports discord.utils",
        "cogs/back.py:1: cogs.back imports bot",
        "cogs/back.py:2: cogs.back imports client",
        "config.py:1: config imports cli",
        "lifecycle.py:1: lifecycle imports config",
        "cli/commands.py:2: cli.commands imports client",
        "bench/__init__.py:3: bench imports cogs",
    }


def test_the_real_tree_with_one_back_edge_added_fails(tmp_path):
    files = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in source_files(ROOT)}
    files["lifecycle.py"] += "\n\ndef _back() -> None:\n    import client  # noqa\n"
    _write(tmp_path, files)
    assert [line.split(": ", 1)[1] for line in violations(tmp_path)] == [
        f"lifecycle imports client (the top-level graph is a tree: lifecycle may import {set()})"
    ]
