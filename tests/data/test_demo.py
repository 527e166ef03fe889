"""The packaged demo dataset, and that importing the sub-package stays light."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

from mlflow_steward.data import DEMO_SPEC, dataset_digest, demo_dataset_path, load_dataset


def test_demo_file_is_the_shared_housing_csv(housing_path):
    path = demo_dataset_path()
    assert path.name == "housing.csv.gz" and path.is_file()
    assert gzip.decompress(path.read_bytes()) == Path(housing_path).read_bytes()


def test_demo_dataset_loads():
    loaded = load_dataset(demo_dataset_path(), DEMO_SPEC)
    assert len(loaded.frame) + loaded.duplicates_dropped == 20_640
    assert loaded.spec.target == "median_house_value" and loaded.spec.task == "regression"
    assert loaded.spec.stratify_column == "median_income"
    assert loaded.spec.categorical == ("ocean_proximity",)
    assert len(loaded.spec.feature_columns()) == 9
    assert loaded.digest == dataset_digest(loaded.frame)


def test_import_does_not_pull_mlflow_or_sklearn():
    code = (
        "import sys, mlflow_steward.data; "
        "heavy = [m for m in ('mlflow', 'sklearn', 'matplotlib') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]" and out.stderr == ""
