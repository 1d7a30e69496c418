"""The layout's import rules, read from the source: every import of the project goes through `dvae_sharp` (a
top-level `import data` or `from dvae import …` would load a second copy of a module, or a user's own `data`); the
model imports nothing of the runner; smoothing and samplers import nothing of dvae (SPEC: the dependency
direction)."""
import ast
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = ("configs", "data", "dvae", "grid", "samplers", "smoothing")
OLD_NAMES = set(FOLDERS) | {"run", "reproduce"}


def imported_modules(path):
    """The absolute module names a file imports, with the line of each (`from a.b import c` gives a.b and a.b.c)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [(node.module, node.lineno)] + [(f"{node.module}.{a.name}", node.lineno) for a in node.names]
    return names


def sources(*folders):
    files = [REPO / "run.py", REPO / "reproduce.py", REPO / "setup.py"] if not folders else []
    for folder in folders or FOLDERS + ("dvae_sharp", "tests", "benchmarks"):
        files += sorted((REPO / folder).rglob("*.py"))
    return files


def test_every_import_of_the_project_goes_through_dvae_sharp():
    offending = [f"{path.relative_to(REPO)}:{line} imports {name}" for path in sources()
                 for name, line in imported_modules(path) if name.split(".")[0] in OLD_NAMES]
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
    """The reader finds both import forms, so the rules above can fail."""
    probe = tmp_path / "probe.py"
    probe.write_text("import data\nfrom dvae_sharp.dvae import runner\nfrom dvae_sharp.dvae.runner import training\n")
    assert imported_modules(probe) == [("data", 1), ("dvae_sharp.dvae", 2), ("dvae_sharp.dvae.runner", 2),
                                       ("dvae_sharp.dvae.runner", 3), ("dvae_sharp.dvae.runner.training", 3)]
