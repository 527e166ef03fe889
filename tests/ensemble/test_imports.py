"""What travels inside models imports nothing of MLflow or ours; the package imports nothing heavy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import mlflow_steward.ensemble as ensemble

PACKAGE = Path(ensemble.__file__).parent
TRAVELLING = ["_estimators.py", "_greedy.py", "_weights.py", "_losses.py", "__init__.py"]
ALLOWED = {"__future__", "collections", "dataclasses", "typing", "importlib", "numpy", "scipy", "sklearn"}


@pytest.mark.parametrize("module", TRAVELLING)
def test_travelling_modules_import_only_numpy_scipy_sklearn_and_each_other(module):
    tree = ast.parse((PACKAGE / module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 0:  # relative: must stay inside the travelling modules
                assert f"{node.module}.py" in TRAVELLING, (module, node.module)
                continue
            roots = [node.module.split(".")[0]]
        else:
            continue
        assert set(roots) <= ALLOWED, (module, roots)


def test_init_lazy_names_point_at_the_attributes_of_their_modules():
    import importlib

    from mlflow_steward.ensemble import _LAZY

    assert set(_LAZY) <= set(ensemble.__all__) <= set(dir(ensemble))
    for name, module_name in _LAZY.items():
        module = importlib.import_module(module_name, ensemble.__name__)
        assert getattr(ensemble, name) is getattr(module, name), name
    assert ensemble.METHODS == ("mean", "weighted", "stacking", "greedy")
    assert callable(ensemble.build_and_compare) and isinstance(ensemble.EnsembleRegressor, type)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        ensemble.no_such_name  # noqa: B018


def test_import_is_light_and_silent():
    code = (
        "import sys, mlflow_steward.ensemble as e\n"
        "heavy = [m for m in ('mlflow', 'sklearn', 'pandas', 'matplotlib', 'scipy') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]" and result.stderr == ""
