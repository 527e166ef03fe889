"""The package's dependency rules, checked on the source (``ast``, function-local imports included).

The layer table below is the one definition of the layers; ``docs/architecture.md`` describes the
same table (a test checks that it names every sub-package listed here). Each sub-package imports
only its own modules and sub-packages of *lower* layers, so there is no cycle between
sub-packages. On top of the layers:

* ``cleaning`` imports nothing of ours and nothing of MLflow (it travels inside every model);
* ``stats`` is numpy/scipy (and the standard library) only;
* ``serving`` imports nothing of tuning, registry, ensemble (building) or monitoring (it loads
  inside ``mlflow models serve``);
* the ensemble's estimator modules travel inside ensemble models: they import nothing of ours
  but each other (and nothing of MLflow);
* nothing imports the CLI;
* ``import mlflow_steward`` (and each sub-package but the server app) in a fresh process prints
  nothing and loads neither MLflow, matplotlib nor optuna.

A checker that never fails proves nothing: the synthetic-package tests at the end plant an upward
import (``from mlflow_steward.cli import main`` inside ``cleaning``), a cycle, a heavy import, and
check that each is reported.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "mlflow_steward"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / "plugin" / PACKAGE
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

#: The layers, top first. A sub-package may import only sub-packages of layers *below* its own
#: (and the package root, which holds ``__version__`` only). Sub-packages that do not exist yet are
#: placed already: ``server`` (the app is ``app``).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("interface", ("cli", "app", "server")),  # parse arguments / render; pipelines/ is outside the package
    ("jobs", ("workflow", "retrain")),  # compose steps into jobs
    ("capabilities", ("ensemble", "monitoring")),  # use steps and the registry
    ("steps", ("steps",)),  # MLflow runs as reusable steps; registering a run's model
    ("registry", ("registry",)),  # every write to the model registry; the gate
    ("measure", ("tuning", "evaluation")),  # search and measure
    ("engines", ("batch",)),  # batch scoring and part-wise work on pandas (chunked) or Spark
    ("leaves", ("data", "serving")),  # serving compiles the cleaning into array kernels (fast path)
    ("foundations", ("cleaning", "stats")),  # import nothing of ours
    ("vocabulary", ("names", "exceptions", "_compat", "_format", "_process", "_paging")),  # _compat: the only code touching MLflow/Optuna internals
)
ROOT = ""  # the package root module (mlflow_steward/__init__.py): below everything

#: Extra rules: sub-package -> sub-packages it must not import even where the layers would allow it
#: (``"*"``: nothing of ours at all).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "cleaning": ("*",),
    "stats": ("*",),
    "serving": ("tuning", "registry", "ensemble", "monitoring"),
}
#: Third-party imports a sub-package must not make (``cleaning`` travels inside models, without MLflow).
FORBIDDEN_THIRD_PARTY: dict[str, tuple[str, ...]] = {"cleaning": ("mlflow",)}
#: The only third-party packages a sub-package may import (beyond the standard library).
ONLY_THIRD_PARTY: dict[str, tuple[str, ...]] = {"stats": ("numpy", "scipy")}
#: Modules that travel inside a logged model (``code_paths``) beside ``cleaning`` and ``serving``:
#: they may import only each other (the whole of ``cleaning``/``serving`` travels too, but a model
#: with no ensemble does not carry them, so they import neither) and nothing of MLflow.
TRAVELLING_MODULES: tuple[str, ...] = tuple(
    f"{PACKAGE}.ensemble{suffix}" for suffix in ("", "._estimators", "._greedy", "._weights", "._losses")
)
#: Never imported by any other sub-package.
NEVER_IMPORTED = ("cli",)
#: Sub-packages whose import may load heavy libraries (the server app runs inside ``mlflow server``).
HEAVY_ALLOWED = ("app", "server")
HEAVY = ("mlflow", "matplotlib", "optuna", "pyspark")

LAYER_OF = {name: index for index, (_, members) in enumerate(LAYERS) for name in members}


# --- the checker -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Import:
    """One import statement (or literal ``importlib.import_module`` call) found in the source."""

    path: Path
    line: int
    module: str  # importing module (``mlflow_steward.ensemble._build``)
    source: str  # importing sub-package ("" for the package root)
    target: str  # imported module, absolute (``mlflow_steward.cli._main``, ``mlflow.sklearn``, ``os``)

    @property
    def ours(self) -> bool:
        return self.target == PACKAGE or self.target.startswith(PACKAGE + ".")

    @property
    def target_package(self) -> str:
        """The imported sub-package of ours (``""`` for the root)."""
        parts = self.target.split(".")
        return parts[1] if len(parts) > 1 else ROOT

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root.parent)}:{self.line}"


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    """Dotted module name of ``path`` under the package directory ``root``; whether it is a package."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _is_module(root: Path, dotted: str) -> bool:
    parts = dotted.split(".")[1:]
    base = root.joinpath(*parts)
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_of(root: Path) -> list[Import]:
    """Every import in every module under the package directory ``root``, at any depth of the
    code (function bodies, ``if TYPE_CHECKING:`` blocks and ``try`` blocks included)."""
    found: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        module, is_package = _module_name(root, path)
        parts = module.split(".")
        source = parts[1] if len(parts) > 1 else ROOT
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (
                    _resolve_relative(module, is_package, node.level, node.module) if node.level else node.module or ""
                )
                # ``from mlflow_steward import tuning``: the target is the sub-module when it is one
                subs = [f"{base}.{a.name}" for a in node.names if a.name != "*"]
                ours = [s for s in subs if s.split(".")[0] == root.name and _is_module(root, s)]
                targets = ours if ours and len(ours) == len(subs) else [base, *ours]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, (ast.Attribute, ast.Name))
                and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
                in ("import_module", "__import__")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                name = node.args[0].value
                if name.startswith("."):  # import_module(".x", __name__): relative to the caller's name
                    level = len(name) - len(name.lstrip("."))
                    name = _resolve_relative(module, True, level, name.lstrip(".") or None)
                targets = [name]
            for target in targets:
                if target:
                    found.append(Import(path, node.lineno, module, source, target))
    return found


def sub_packages(root: Path) -> set[str]:
    """Names of the sub-packages and top-level modules under ``root`` (``cli``, ``names``...)."""
    names = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    names |= {p.stem for p in root.glob("*.py") if p.stem != "__init__"}
    return names


def violations(root: Path) -> list[str]:
    """Every broken rule, one line each (empty when the package follows the rules)."""
    problems: list[str] = []
    unplaced = sorted(sub_packages(root) - set(LAYER_OF))
    for name in unplaced:
        problems.append(f"{name}: not in the layer table of tests/test_architecture.py (place it)")
    stdlib = set(sys.stdlib_module_names)
    travelling = {m.replace(PACKAGE, root.name, 1) for m in TRAVELLING_MODULES}
    for imp in imports_of(root):
        here = imp.where(root)
        if imp.module in travelling and (imp.target.split(".")[0] == "mlflow" or (imp.ours and imp.target not in travelling)):
            problems.append(f"{here}: {imp.module} travels inside models but imports {imp.target}")
            continue
        if not imp.ours:
            top = imp.target.split(".")[0]
            if top in FORBIDDEN_THIRD_PARTY.get(imp.source, ()):
                problems.append(f"{here}: {imp.source} imports {imp.target} (it must not import {top})")
            allowed = ONLY_THIRD_PARTY.get(imp.source)
            if allowed is not None and top not in stdlib and top not in allowed and top != "__future__":
                problems.append(f"{here}: {imp.source} imports {imp.target} (only {', '.join(allowed)} allowed)")
            continue
        target = imp.target_package
        if target == imp.source:
            continue
        if imp.source == ROOT:
            problems.append(f"{here}: the package root imports {imp.target} (it must import nothing of ours)")
            continue
        forbidden = FORBIDDEN.get(imp.source, ())
        if "*" in forbidden:
            problems.append(f"{here}: {imp.source} imports {imp.target} (it must import nothing of ours)")
            continue
        if target in forbidden:
            problems.append(f"{here}: {imp.source} imports {imp.target} (it must not import {target})")
            continue
        if target in NEVER_IMPORTED:
            problems.append(f"{here}: {imp.source} imports {imp.target} (nothing imports {target})")
            continue
        if target == ROOT:
            continue
        source_layer, target_layer = LAYER_OF.get(imp.source), LAYER_OF.get(target)
        if source_layer is None or target_layer is None:
            continue  # reported as unplaced above
        if target_layer <= source_layer:
            relation = "same layer" if target_layer == source_layer else "upward"
            problems.append(
                f"{here}: {imp.source} ({LAYERS[source_layer][0]}) imports {imp.target} "
                f"({LAYERS[target_layer][0]}): {relation} import"
            )
    problems.extend(f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(root))
    return problems


def dependency_graph(root: Path) -> dict[str, set[str]]:
    """Sub-package -> the sub-packages of ours it imports (the root excluded)."""
    graph: dict[str, set[str]] = {}
    for imp in imports_of(root):
        if imp.ours and imp.source and imp.target_package and imp.target_package != imp.source:
            graph.setdefault(imp.source, set()).add(imp.target_package)
    return graph


def cycles(root: Path) -> list[list[str]]:
    """One cycle per strongly connected component of the sub-package graph (Tarjan)."""
    graph = dependency_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component) + [sorted(component)[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


# --- the package follows the rules -----------------------------------------------------------------
def test_the_package_follows_the_layer_table():
    problems = violations(PACKAGE_DIR)
    assert problems == [], "\n".join(problems)


def test_the_checker_sees_the_real_imports():
    """Not vacuous: known downward imports are found, function-local ones included."""
    graph = dependency_graph(PACKAGE_DIR)
    assert {"steps", "tuning", "evaluation", "serving"} <= graph["ensemble"]
    # the maintenance loop composes the steps, never the main job (same layer)
    assert {"data", "steps", "monitoring", "registry", "ensemble"} <= graph["retrain"]
    assert "workflow" not in graph["retrain"] and "retrain" not in graph.get("workflow", set())
    assert {"steps", "ensemble", "registry"} <= graph["workflow"]
    assert "steps" in graph and "registry" in graph["steps"]  # a run's model is registered through the registry
    assert "workflow" not in graph["ensemble"] and "registry" not in graph["ensemble"]
    local = [i for i in imports_of(PACKAGE_DIR) if i.source == "workflow" and i.target == "mlflow_steward.ensemble"]
    assert local, "workflow imports ensemble inside a function (workflow/_pipeline.py)"


def test_the_doc_names_every_sub_package_of_the_table():
    text = DOC.read_text()
    for _, members in LAYERS:
        for name in members:
            assert f"`{name}`" in text, f"docs/architecture.md does not mention `{name}`"
    assert "tests/test_architecture.py" in text


# --- import mlflow_steward stays silent and light --------------------------------------------------
_PROBE = """
import contextlib, io, json, sys
report = []
for module in {modules!r}:
    before = set(sys.modules)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        __import__(module)
    heavy = sorted(m for m in {heavy!r} if m in sys.modules and m not in before)
    report.append([module, out.getvalue(), heavy])
print(json.dumps(report))
"""


def _probe(modules: Iterable[str], *, pythonpath: Path | None = None) -> list[list]:
    env = None
    if pythonpath is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(modules=list(modules), heavy=HEAVY)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    return json.loads(done.stdout)


def test_import_mlflow_steward_is_silent_and_light():
    """In a fresh process, alone: no output, no MLflow, matplotlib or optuna."""
    done = subprocess.run(
        [sys.executable, "-c", f"import {PACKAGE}, sys, json; "
         f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"],
        capture_output=True, text=True, timeout=120,
    )
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "[]\n")


def test_every_sub_package_imports_silently_without_heavy_libraries():
    """Each sub-package (lowest layers first, so a heavy import is pinned on the first that makes it)."""
    present = sub_packages(PACKAGE_DIR)
    modules = [
        f"{PACKAGE}.{name}"
        for _, members in reversed(LAYERS)
        for name in members
        if name in present and name not in HEAVY_ALLOWED
    ]
    report = _probe(modules)
    assert [m for m, _, _ in report] == modules
    noisy = {m: out for m, out, _ in report if out}
    heavy = {m: libs for m, _, libs in report if libs}
    assert noisy == {} and heavy == {}


# --- the checker fails on broken rules (synthetic packages) ---------------------------------------
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / PACKAGE
    for relative, source in {"__init__.py": "", **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return root


def test_an_upward_import_inside_cleaning_is_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "cli/__init__.py": "def main():\n    pass\n",
            "cleaning/__init__.py": "",
            "cleaning/_impute.py": """
                def fit():
                    from mlflow_steward.cli import main  # function-local, still an import
                    return main
            """,
        },
    )
    assert violations(root) == [
        f"{PACKAGE}/cleaning/_impute.py:3: cleaning imports {PACKAGE}.cli (it must import nothing of ours)"
    ]
    # the same file without the planted import passes
    (root / "cleaning" / "_impute.py").write_text("def fit():\n    return None\n")
    assert violations(root) == []


def test_upward_same_layer_and_cli_imports_are_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "cli/__init__.py": "",
            "workflow/__init__.py": "",
            "steps/__init__.py": "",
            "evaluation/__init__.py": "",
            "tuning/__init__.py": "",
            "serving/__init__.py": "",
            "registry/__init__.py": "",
            "steps/_reuse.py": "from mlflow_steward import workflow\n",  # upward
            "tuning/_x.py": "import mlflow_steward.evaluation\n",  # same layer
            "registry/_y.py": "from ..cli import main\n",  # imports the CLI (relative)
            "serving/_z.py": "import importlib\nimportlib.import_module('mlflow_steward.registry')\n",
        },
    )
    problems = violations(root)
    assert any("steps/_reuse.py:1: steps (steps) imports mlflow_steward.workflow (jobs): upward import" in p
               for p in problems), problems
    assert any("tuning (measure) imports mlflow_steward.evaluation (measure): same layer import" in p for p in problems)
    assert any("registry imports mlflow_steward.cli (nothing imports cli)" in p for p in problems)
    assert any("serving/_z.py:2: serving imports mlflow_steward.registry (it must not import registry)" in p
               for p in problems)


def test_a_cycle_hidden_in_function_local_imports_is_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "ensemble/__init__.py": "def build():\n    from mlflow_steward.workflow import run_step\n",
            "workflow/__init__.py": "def run():\n    from mlflow_steward.ensemble import build\n",
        },
    )
    assert cycles(root) == [["ensemble", "workflow", "ensemble"]]
    assert "import cycle: ensemble -> workflow -> ensemble" in violations(root)


def test_third_party_rules_and_unplaced_packages_are_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "cleaning/__init__.py": "import sklearn\n",
            "cleaning/_log.py": "def log():\n    import mlflow.sklearn\n",
            "stats/__init__.py": "import numpy, math\nfrom scipy import stats\n",
            "stats/_plot.py": "import matplotlib.pyplot as plt\n",
            "gadgets/__init__.py": "",
        },
    )
    problems = violations(root)
    assert "gadgets: not in the layer table of tests/test_architecture.py (place it)" in problems
    assert any("cleaning/_log.py:2: cleaning imports mlflow.sklearn (it must not import mlflow)" in p for p in problems)
    assert any("stats/_plot.py:1: stats imports matplotlib.pyplot (only numpy, scipy allowed)" in p for p in problems)
    assert len(problems) == 3, problems


def test_a_heavy_or_noisy_import_is_caught(tmp_path):
    pytest.importorskip("optuna")
    _package(tmp_path, {"tuning/__init__.py": "import optuna\n", "data/__init__.py": "print('hello')\n"})
    report = {m: (out, heavy) for m, out, heavy in _probe([f"{PACKAGE}.data", f"{PACKAGE}.tuning"], pythonpath=tmp_path)}
    assert report[f"{PACKAGE}.data"] == ("hello\n", [])
    assert report[f"{PACKAGE}.tuning"] == ("", ["optuna"])


def test_an_import_in_a_travelling_ensemble_module_is_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "ensemble/__init__.py": "from ._greedy import greedy\n",
            "ensemble/_greedy.py": "def greedy():\n    from mlflow_steward.names import TAG_STEP\n",
            "ensemble/_build.py": "from mlflow_steward import names\n",  # building: not in the model
            "names.py": "",
        },
    )
    assert violations(root) == [
        f"{PACKAGE}/ensemble/_greedy.py:2: {PACKAGE}.ensemble._greedy travels inside models but imports "
        f"{PACKAGE}.names"
    ]
