"""Checks that imports flow one way: every module of the server package and of src/ imports
only from its own folder or from folders below it, in the order that docs/architecture.md
gives (the top level, with the wiring, above everything).

    python scripts/check-layers.py

Prints each import that goes up and exits 1 if there is one; the tests are not checked.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Top to bottom. "" is the top level of the tree.
SERVER_LAYERS = [
    "",
    "web",
    "execution",
    "history",
    "widgets",
    "outputs",
    "inputs",
    "kernel",
    "trust",
    "doc",
    "common",
]
FRONTEND_LAYERS = [
    "",
    "plugins",
    "widgets",
    "history",
    "status",
    "input",
    "execution",
    "trust",
    "server",
    "doc",
    "common",
]

# Generated at build time, read by any layer.
VERSION_MODULES = {"_version"}

TS_IMPORT = re.compile(r"""(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}/[^'"]+)['"]""")


def folder_of(path: Path, base: Path) -> str:
    """The folder of a module (or of a package, for an import of the package itself)."""
    parts = path.relative_to(base).parts
    if path.is_dir():
        return parts[0] if parts else ""
    return parts[0] if len(parts) > 1 else ""


def python_targets(path: Path, package: Path) -> list[tuple[int, Path]]:
    """The modules of the package that a module imports, with the line of each."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
                target = base.joinpath(*(node.module or "").split(".")) if node.module else base
            elif node.module and node.module.split(".")[0] == package.name:
                target = package.parent.joinpath(*node.module.split("."))
            else:
                continue
            if not target.is_dir():
                target = target.with_suffix(".py")
            found.append((node.lineno, target))
    return found


def typescript_targets(path: Path) -> list[tuple[int, Path]]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        for match in TS_IMPORT.finditer(line):
            found.append((number, (path.parent / match.group(1)).resolve()))
    return found


def check(files: list[Path], base: Path, layers: list[str], targets_of: object) -> list[str]:
    problems = []
    rank = {name: index for index, name in enumerate(layers)}
    for path in files:
        here = folder_of(path, base)
        if here not in rank:
            problems.append(f"{path.relative_to(ROOT)}: folder {here!r} has no place in the order")
            continue
        for line, target in targets_of(path):  # type: ignore[operator]
            if target.stem in VERSION_MODULES:
                continue
            try:
                there = folder_of(target, base)
            except ValueError:
                continue
            if there not in rank:
                continue
            if rank[there] < rank[here]:
                problems.append(
                    f"{path.relative_to(ROOT)}:{line}: {here or 'top'} imports from"
                    f" {there or 'the top level'}, which is above it"
                )
    return problems


def main() -> int:
    package = ROOT / "jupyterlab_collab_exec"
    server = [
        path
        for path in package.rglob("*.py")
        if "tests" not in path.relative_to(package).parts
        and "labextension" not in path.relative_to(package).parts
    ]
    frontend = [
        path
        for path in (ROOT / "src").rglob("*.ts")
        if "__tests__" not in path.relative_to(ROOT / "src").parts
    ]
    problems = check(server, package, SERVER_LAYERS, lambda p: python_targets(p, package))
    problems += check(frontend, ROOT / "src", FRONTEND_LAYERS, typescript_targets)
    for problem in problems:
        print(problem)
    print(
        f"{len(server)} server modules and {len(frontend)} frontend modules checked:"
        f" {len(problems) or 'no'} import{'s' if len(problems) != 1 else ''} going up"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
