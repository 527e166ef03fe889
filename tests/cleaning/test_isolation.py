"""cleaning travels inside every model: it imports nothing of MLflow and nothing of ours."""

import ast
import subprocess
import sys
from pathlib import Path

import mlflow_steward.cleaning as cleaning

PACKAGE_DIR = Path(cleaning.__file__).parent


def test_no_import_outside_the_sub_package():
    for path in PACKAGE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
                assert node.level in (0, 1), f"{path.name}: relative import beyond cleaning"
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(("mlflow", "mlflow_steward")), f"{path.name}: {name}"


def test_importing_cleaning_loads_no_mlflow_and_no_other_capability():
    code = (
        "import sys, mlflow_steward.cleaning\n"
        "bad = [m for m in sys.modules if m == 'mlflow' or m.startswith('mlflow.')"
        " or (m.startswith('mlflow_steward.') and not m.startswith('mlflow_steward.cleaning'))"
        " or m.startswith('skops')]\n"
        "print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert result.stderr == ""
