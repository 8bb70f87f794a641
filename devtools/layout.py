"""The project's layout, read from the source: who imports whom, and how big files and classes are.

tests/test_layout.py holds the code to its import contracts and size limits with this;
`python -m devtools.layout` prints the largest production files and classes.

Every import counts: at module top, inside functions, and under `if TYPE_CHECKING:` (a
type-only import still ties two modules together). `from a.b import c` is an import of the module
`a.b.c` when there is one, else of `a.b`.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The production packages: held to the size limits, and to no import cycle.
PRODUCTION = ("bot", "storage", "recommender", "moviebot")
# Everything of ours whose imports are read (tests, tools and benches may import anything).
PACKAGES = (*PRODUCTION, "devtools", "bench", "scripts", "tests")
MAX_FILE_LINES = 600
MAX_CLASS_LINES = 300
CLASS_LIMITED = ("bot", "moviebot")  # the packages whose classes are held to MAX_CLASS_LINES


def module_name(path: Path) -> str:
    """`bot/commands/router.py` -> `bot.commands.router`; a package is its __init__."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Module name -> file, for every .py file of `packages`."""
    files: dict[str, Path] = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if ".venv" not in path.parts:
                files[module_name(path)] = path
    return files


def _imported(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The dotted names `tree` imports (relative imports made absolute): `from a import b`
    imports the module a.b when there is one (as import-linter counts it), else a."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in known else base


def import_graph(files: dict[str, Path] | None = None) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports."""
    files = source_files() if files is None else files
    known = set(source_files())
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        names = _imported(tree, module, is_package, known)
        graph[module] = {name for name in names if name in known and name != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of `graph`: each strongly connected group of more than one module
    (Tarjan's algorithm), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def file_sizes(packages: tuple[str, ...] = PRODUCTION) -> list[tuple[int, str]]:
    """(lines, path) of every production file, largest first."""
    sizes = []
    for path in source_files(packages).values():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        sizes.append((lines, str(path.relative_to(ROOT))))
    return sorted(sizes, reverse=True)


def class_sizes(packages: tuple[str, ...] = CLASS_LIMITED) -> list[tuple[int, str]]:
    """(lines, path:Class) of every class in `packages`, largest first."""
    sizes = []
    for path in source_files(packages).values():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                lines = node.end_lineno - node.lineno + 1
                sizes.append((lines, f"{path.relative_to(ROOT)}:{node.name}"))
    return sorted(sizes, reverse=True)


def main() -> int:
    """Print the largest production files and classes against their limits."""
    print(f"largest files (limit {MAX_FILE_LINES} lines):")
    for lines, where in file_sizes()[:8]:
        print(f"  {lines:5d}  {where}")
    print(f"largest classes in {', '.join(CLASS_LIMITED)} (limit {MAX_CLASS_LINES} lines):")
    for lines, where in class_sizes()[:8]:
        print(f"  {lines:5d}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
