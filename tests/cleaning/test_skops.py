"""A fitted cleaning pipeline (alone or with a model) round-trips through skops with our list."""

import pickle

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.linear_model import LogisticRegression, Ridge

from mlflow_steward.cleaning import (
    SKOPS_TRUSTED_TYPES,
    CleaningConfig,
    MissingMarkerReplacer,
    build_cleaning_pipeline,
    build_model_pipeline,
    untrusted_types,
)


def _round_trip(fitted):
    data = skops.io.dumps(fitted)
    needed = skops.io.get_untrusted_types(data=data)
    assert set(needed) <= set(SKOPS_TRUSTED_TYPES), set(needed) - set(SKOPS_TRUSTED_TYPES)
    with pytest.raises(skops.io.exceptions.UntrustedTypesFoundException):
        skops.io.loads(data)  # our classes do need the list
    return skops.io.loads(data, trusted=SKOPS_TRUSTED_TYPES)


@pytest.mark.parametrize("dataset", ["housing", "adult"])
def test_fitted_cleaning_round_trips(request, dataset):
    frame = request.getfixturevalue(dataset)
    fitted = request.getfixturevalue(f"{dataset}_cleaning")
    assert untrusted_types(fitted) == []
    loaded = _round_trip(fitted)
    pd.testing.assert_frame_equal(loaded.transform(frame), fitted.transform(frame))


def test_housing_model_predicts_identically(housing, housing_numeric, housing_config):
    sample = housing.sample(3000, random_state=0)
    cleaning = build_cleaning_pipeline(housing_numeric, ["ocean_proximity"], housing_config)
    model = build_model_pipeline(cleaning, Ridge()).fit(sample, sample["median_house_value"])
    assert untrusted_types(model) == []
    np.testing.assert_array_equal(_round_trip(model).predict(housing), model.predict(housing))


def test_adult_model_predicts_identically(adult, adult_categorical):
    sample = adult.sample(3000, random_state=0)
    numeric = ["age", "hours-per-week"]
    cleaning = build_cleaning_pipeline(numeric, adult_categorical, CleaningConfig())
    model = build_model_pipeline(cleaning, LogisticRegression(max_iter=500))
    model.fit(sample, sample["salary"])
    assert untrusted_types(model) == []
    loaded = _round_trip(model)
    np.testing.assert_array_equal(loaded.predict_proba(adult), model.predict_proba(adult))


def test_every_option_and_dtype_is_covered():
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.uniform(1, 2, size=n),
            "t": np.arange(n),
            "count": pd.array(rng.integers(0, 5, size=n), dtype="Int64"),
            "flag": rng.integers(0, 2, size=n).astype(bool),
            "kind": pd.Categorical(rng.choice(["x", "y", "?"], size=n)),
            "name": pd.array(rng.choice(["p", "q", None], size=n), dtype="str"),
            "code": rng.integers(0, 3, size=n),
        }
    )
    for smoothing in (
        {"method": "moving_average", "columns": ["a"]},
        {"method": "exponential", "columns": ["a"]},
    ):
        config = CleaningConfig(
            outliers="iqr",
            scaling="minmax",
            ratios=(("a_per_b", "a", "b"),),
            cluster_similarity={"columns": ["a", "b"], "n_clusters": 3},
            smoothing=smoothing,
        )
        cleaning = build_cleaning_pipeline(
            ["a", "b", "count"], ["flag", "kind", "name", "code"], config, time_column="t"
        ).fit(frame)
        assert untrusted_types(cleaning) == []
        loaded = _round_trip(cleaning)
        pd.testing.assert_frame_equal(loaded.transform(frame), cleaning.transform(frame))


def test_pickles_name_the_public_module():
    data = pickle.dumps(MissingMarkerReplacer())
    assert b"mlflow_steward.cleaning" in data and b"mlflow_steward.cleaning._" not in data
    assert isinstance(pickle.loads(data), MissingMarkerReplacer)
    assert all(name.startswith("mlflow_steward.cleaning.") for name in SKOPS_TRUSTED_TYPES)
