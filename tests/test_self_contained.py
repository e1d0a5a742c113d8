"""The repository is self-contained: no tracked file reads, links to or mentions a path above its root."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import PurePosixPath

import pytest

from stack.paths import ROOT

# A user clones this repository alone: a folder beside it (the CI checkout's sibling, a
# developer's home) is not there. Each rule below catches one way a file can reach out.
SIBLING = "shared"
# "../x", "../../x": resolved from the file's folder (links, includes) and from the root
# (commands run by make and pytest), it must stay inside the repository.
RELATIVE = re.compile(r"(?<![\w.])((?:\.\./)+)([\w.\-/]*)")
# `cd "$(dirname "$0")/../.."` in shell scripts climbs from the script's folder.
SHELL_CLIMB = re.compile(r"dirname\s+\"?\$\{?0\}?\"?\s*\)\"?((?:/\.\.)+)")
# An absolute path into this workplace, or the sibling folder named directly.
ABSOLUTE = re.compile(r"(?<![\w.])/work/|(?<![\w])\.\./+" + SIBLING + r"\b")


def _escapes(base: PurePosixPath, relative: str) -> bool:
    """Whether `relative`, read from `base` (a folder relative to the root), climbs above the root."""
    depth = len(base.parts)
    for part in PurePosixPath(relative).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part != ".":
            depth += 1
    return False


def _file_climbs(node: ast.AST) -> int | None:
    """For `Path(__file__)...parent.parent` or `.parents[n]`: how many folders above the file's own."""
    climbs = 0
    while True:
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            climbs, node = climbs + 1, node.value
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "parents"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
        ):
            climbs, node = climbs + node.slice.value + 1, node.value.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"resolve", "absolute"}
        ):
            node = node.func.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Path"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "__file__"
        ):
            return climbs - 1 if climbs else None  # the first .parent is the file's own folder
        else:
            return None


def python_problems(path: PurePosixPath, source: str) -> list[str]:
    """Paths built from __file__ that reach above the root, directly or through a name for the root."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    depth = len(path.parent.parts)
    # Names bound to the repository's root: ROOT by convention, and any `X = Path(__file__)...`
    # that lands there.
    roots = {"ROOT"}
    problems = []
    for node in ast.walk(tree):
        climbs = _file_climbs(node) if isinstance(node, ast.Attribute | ast.Subscript) else None
        if climbs is not None and climbs > depth:
            problems.append(f"{path}:{node.lineno}: climbs {climbs - depth} folder(s) above the repository")
        assigns_one_name = isinstance(node, ast.Assign) and len(node.targets) == 1
        if assigns_one_name and isinstance(node.targets[0], ast.Name) and _file_climbs(node.value) == depth:
            roots.add(node.targets[0].id)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "stack.paths":
            roots |= {alias.asname or alias.name for alias in node.names if alias.name == "ROOT"}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"parent", "parents"}
            and isinstance(node.value, ast.Name)
            and node.value.id in roots
        ):
            problems.append(f"{path}:{node.lineno}: {node.value.id}.{node.attr} is outside the repository")
    return problems


def text_problems(path: PurePosixPath, text: str) -> list[str]:
    """Relative paths that climb above the root, absolute workplace paths, the sibling folder by name."""
    problems = []
    # A document's links (and a kustomization's resources) are read from its own folder; a
    # command's paths from where make and pytest run (the root), and a script may be run from its
    # folder: both must stay inside.
    linked = path.suffix in {".md", ".html"} or path.name == "kustomization.yaml"
    for number, line in enumerate(text.splitlines(), start=1):
        if ABSOLUTE.search(line):
            problems.append(f"{path}:{number}: names a path outside the repository: {line.strip()[:120]}")
            continue
        for match in RELATIVE.finditer(line):
            relative = match.group(1) + match.group(2)
            if _escapes(path.parent, relative) or (not linked and _escapes(PurePosixPath(), relative)):
                problems.append(f"{path}:{number}: {relative!r} climbs above the repository")
        for match in SHELL_CLIMB.finditer(line):
            if _escapes(path.parent, match.group(1).lstrip("/")):
                problems.append(f"{path}:{number}: 'dirname $0{match.group(1)}' climbs above the repository")
    return problems


def problems_in(path: PurePosixPath, text: str) -> list[str]:
    found = text_problems(path, text)
    if path.suffix == ".py" or text.startswith("#!/usr/bin/env python"):
        found += python_problems(path, text)
    return found


def tracked_text_files() -> list[PurePosixPath]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [PurePosixPath(name) for name in listed.decode().split("\0") if name]


# This file's examples are the very lines it forbids; the tests below check them one by one.
SELF = PurePosixPath("tests/test_self_contained.py")


def test_no_tracked_file_reaches_outside_the_repository() -> None:
    files = tracked_text_files()
    assert len(files) > 100, "git ls-files listed too few files to be this repository"
    assert SELF in files
    problems = []
    for path in (f for f in files if f != SELF):
        raw = (ROOT / path).read_bytes() if (ROOT / path).is_file() else b""
        if b"\0" in raw[:8192]:
            continue  # images and other binaries
        problems += problems_in(path, raw.decode("utf-8", errors="replace"))
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("README.md", "The design is in `" + ".." + "/shared/DESIGN.md`."),
        ("docs/architecture.md", "See [the brief](../../DESIGN.md)."),
        ("Makefile", "\tprism mock ../twilio/spec.json"),
        ("scripts/run-it", 'cd "$(dirname "$0")/../.."'),
        ("stack/twilio_standin.py", 'SPEC = ROOT.parent / "' + SIBLING + '" / "twilio" / "spec.json"'),
        ("stack/other.py", 'ROOT = Path(__file__).resolve().parent.parent\nSPEC = ROOT.parent / "x"'),
        ("stack/deep.py", 'SPEC = Path(__file__).resolve().parents[2] / "x"'),
        ("tests/x.py", 'DATA = Path(__file__).parent.parent.parent / "data"'),
        ("tests/intake/test_x.py", 'FIXTURE = "../x.csv"'),  # read from the root, where pytest runs
        ("bench/common.py", "OUT = '/work/" + SIBLING + "/bench'"),
        ("deploy/k8s/base/kustomization.yaml", "  - ../../../../other/base"),
    ],
    ids=[
        "sibling",
        "link",
        "make",
        "shell",
        "root-parent",
        "own-root",
        "parents",
        "parent-chain",
        "cwd",
        "absolute",
        "kustomization",
    ],
)
def test_the_guard_catches_a_line_that_reaches_outside(path: str, line: str) -> None:
    assert problems_in(PurePosixPath(path), line) != []


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("docs/staff-app.md", "![cola](screenshots/staff-queue.png) and [arquitectura](../README.md)"),
        ("tests/browser/conftest.py", 'SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"'),
        ("stack/paths.py", "ROOT = Path(__file__).resolve().parent.parent\nVAR = ROOT / 'var'"),
        (".ci/run", 'cd "$(dirname "$0")/.."'),
        ("stack/nlu_eval.py", "from rasa.shared.nlu.training_data.loading import load_data"),
        ("deploy/k8s/overlays/production/kustomization.yaml", "  - ../../base"),  # from its own folder
    ],
    ids=["link", "parents", "root", "shell", "module", "kustomization"],
)
def test_the_guard_lets_paths_inside_the_repository_through(path: str, line: str) -> None:
    assert problems_in(PurePosixPath(path), line) == []
