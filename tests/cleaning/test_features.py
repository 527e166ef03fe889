import re

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.cleaning import (
    CleaningColumnError,
    CleaningParameterError,
    ClusterSimilarity,
    RatioFeatures,
)
from mlflow_steward.cleaning._errors import (
    COLUMN_MISSING,
    PARAM_INT,
    PARAM_NUMBER,
    PARAM_RATIO,
    PARAM_RATIO_NAME,
)


def test_ratios_by_hand_with_undefined_divisions_missing():
    frame = pd.DataFrame({"a": [2.0, 3.0, 0.0, np.nan, -4.0], "b": [1.0, 0.0, 0.0, 2.0, 2.0]})
    ratios = RatioFeatures(ratios=(("a_per_b", "a", "b"),)).fit(frame)
    out = ratios.transform(frame)
    assert list(out.columns) == ["a", "b", "a_per_b"]
    assert list(ratios.get_feature_names_out()) == ["a", "b", "a_per_b"]
    expected = [2.0, np.nan, np.nan, np.nan, -2.0]  # x/0, 0/0 and NaN/x are all missing
    np.testing.assert_array_equal(out["a_per_b"].to_numpy(), expected)


def test_ratio_errors():
    frame = pd.DataFrame({"a": [1.0], "b": [2.0], "s": ["x"]})
    message = PARAM_RATIO.format(owner="RatioFeatures", value=("r", "a"))
    with pytest.raises(CleaningParameterError, match=re.escape(message)):
        RatioFeatures(ratios=[("r", "a")]).fit(frame)
    message = PARAM_RATIO_NAME.format(owner="RatioFeatures", name="a")
    with pytest.raises(CleaningParameterError, match=re.escape(message)):
        RatioFeatures(ratios=[("a", "a", "b")]).fit(frame)
    message = COLUMN_MISSING.format(
        owner="RatioFeatures", column="c", param="ratios", available=["a", "b", "s"]
    )
    with pytest.raises(CleaningColumnError, match=re.escape(message)):
        RatioFeatures(ratios=[("r", "a", "c")]).fit(frame)


def test_cluster_similarity_by_hand():
    # two blobs with centres (0, 1) and (10, 1); similarity exp(-gamma * squared distance)
    frame = pd.DataFrame({"lat": [0.0, 0.0, 10.0, 10.0], "lon": [0.0, 2.0, 0.0, 2.0]})
    similarity = ClusterSimilarity(n_clusters=2, gamma=0.5, random_state=0).fit(frame)
    centres = similarity.cluster_centers_[np.argsort(similarity.cluster_centers_[:, 0])]
    np.testing.assert_allclose(centres, [[0.0, 1.0], [10.0, 1.0]])
    out = similarity.transform(frame)
    assert list(out.columns) == ["cluster_0_similarity", "cluster_1_similarity"]
    assert list(out.index) == list(frame.index)
    near = out.to_numpy().max(axis=1)
    far = out.to_numpy().min(axis=1)
    np.testing.assert_allclose(near, np.exp(-0.5 * 1.0))  # distance 1 to own centre
    np.testing.assert_allclose(far, np.exp(-0.5 * (100.0 + 1.0)))
    array = frame.to_numpy()
    assert isinstance(similarity.fit(array).transform(array), np.ndarray)


def test_cluster_similarity_errors():
    X = np.zeros((4, 2))
    message = PARAM_INT.format(
        owner="ClusterSimilarity", param="n_clusters", bounds=">= 1", value=0
    )
    with pytest.raises(CleaningParameterError, match=re.escape(message)):
        ClusterSimilarity(n_clusters=0).fit(X)
    message = PARAM_NUMBER.format(owner="ClusterSimilarity", param="gamma", bounds="> 0.0", value=0)
    with pytest.raises(CleaningParameterError, match=re.escape(message)):
        ClusterSimilarity(gamma=0).fit(X)
