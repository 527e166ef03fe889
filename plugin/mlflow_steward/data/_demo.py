"""The packaged demo dataset: California housing (1990 census), gzip-compressed CSV."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from mlflow_steward.data._spec import DatasetSpec

DEMO_RESOURCE = "resources/housing.csv.gz"

DEMO_SPEC = DatasetSpec(
    target="median_house_value",
    task="regression",
    stratify_column="median_income",
)
"""Housing: regression on ``median_house_value``, split stratified on ``median_income`` bins;
``ocean_proximity`` is auto-detected as the categorical column."""


def demo_dataset_path() -> Path:
    """Path of the packaged ``housing.csv.gz`` (20,640 rows; needs an unzipped install)."""
    return Path(str(resources.files("mlflow_steward.data").joinpath(DEMO_RESOURCE)))
