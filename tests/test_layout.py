"""The layout's import rules, read from the source: every import of the project goes through `dvae_sharp` (a
top-level `import data` or `from dvae import …` would load a second copy of a module, or a user's own `data`); the
model imports nothing of the runner; smoothing, samplers, configs and data import nothing of dvae (SPEC: the
dependency direction)."""
import ast
import pathlib
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = ("configs", "data", "dvae", "grid", "samplers", "smoothing")
OLD_NAMES = set(FOLDERS) | {"run", "reproduce"}
# Files whose string-held programs import generic names on purpose: the rule's own probe, and the user's project of
# the packaging test, which has its own `data`, `configs`, `run` and `grid`.
PROBES = {"tests/test_layout.py", "tests/test_packaging.py"}


def imported_modules(path, strings=True):
    """The absolute module names a file imports, with the line of each (`from a.b import c` gives a.b and a.b.c),
    with `strings` also those of Python code held in its string literals (a `python -c` program, say)."""
    return _imports(ast.parse(path.read_text(), filename=str(path)), line=None, strings=strings)


def _imports(tree, line, strings):
    names = []
    for node in ast.walk(tree):
        where = line or getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            names += [(alias.name, where) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [(node.module, where)] + [(f"{node.module}.{a.name}", where) for a in node.names]
        elif strings and isinstance(node, ast.Constant) and isinstance(node.value, str) and "import " in node.value:
            try:
                code = ast.parse(textwrap.dedent(node.value))
            except SyntaxError:  # prose that mentions importing
                continue
            names += _imports(code, line=where, strings=True)
    return names


def sources(*folders):
    files = [REPO / "run.py", REPO / "reproduce.py", REPO / "setup.py"] if not folders else []
    for folder in folders or FOLDERS + ("dvae_sharp", "tests", "benchmarks"):
        files += sorted((REPO / folder).rglob("*.py"))
    return files


def test_every_import_of_the_project_goes_through_dvae_sharp():
    offending = [f"{path.relative_to(REPO)}:{line} imports {name}" for path in sources()
                 for name, line in imported_modules(path, strings=str(path.relative_to(REPO)) not in PROBES)
                 if name.split(".")[0] in OLD_NAMES]
    assert not offending, offending


@pytest.mark.parametrize("folders, forbidden", [
    (("dvae/model",), "dvae_sharp.dvae.runner"),
    (("smoothing", "samplers"), "dvae_sharp.dvae"),
    (("configs", "data"), "dvae_sharp.dvae"),
])
def test_dependency_direction(folders, forbidden):
    offending = [f"{path.relative_to(REPO)}:{line} imports {name}" for path in sources(*folders)
                 for name, line in imported_modules(path) if name == forbidden or name.startswith(forbidden + ".")]
    assert not offending, offending


def test_the_rule_sees_a_violation(tmp_path):
    """The reader finds both import statements and the imports of a program held in a string, and passes over
    prose, so the rules above can fail."""
    probe = tmp_path / "probe.py"
    probe.write_text("import data\nfrom dvae_sharp.dvae import runner\nfrom dvae_sharp.dvae.runner import training\n"
                     "PROGRAM = 'import sys; from dvae import run_files'\nPROSE = 'what to import here'\n")
    assert sorted(imported_modules(probe)) == [
        ("data", 1), ("dvae", 4), ("dvae.run_files", 4), ("dvae_sharp.dvae", 2), ("dvae_sharp.dvae.runner", 2),
        ("dvae_sharp.dvae.runner", 3), ("dvae_sharp.dvae.runner.training", 3), ("sys", 4)]
