"""Labels (files, a SQL table, duplicates, whole-request and row labels, stored labels overridden) and
the review queue (lowest margins first, stratification, seeded ties, regression spread over trees)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring import read_labels
from mlflow_steward.monitoring._labels import labels_digest, window_labels
from mlflow_steward.monitoring._review import allocate, margins, review_queue, stratified_pick


def _captures() -> pd.DataFrame:
    return pd.DataFrame({"request_id": ["a", "a", "b", "c"], "row": [0, 1, 0, 0], "label": [None, None, None, 5.0]})


def test_labels_join_by_request_and_row_and_override_stored_ones(tmp_path):
    path = tmp_path / "labels.csv"
    pd.DataFrame({"request_id": ["a", "b", "c", "zz"], "row": [1, None, None, None], "label": [1.0, 2.0, 7.0, 9.0]}).to_csv(path, index=False)
    labels = read_labels(path)
    joined = window_labels(_captures(), labels)
    assert joined.values.tolist() == [None, 1.0, 2.0, 7.0]  # row label, whole-request label, source over stored
    assert joined.matched == frozenset({"a", "b", "c"})
    stored_only = window_labels(_captures(), None)
    assert stored_only.count == 1
    assert labels_digest(_captures()["request_id"], _captures()["row"], joined.values) != labels_digest(
        _captures()["request_id"], _captures()["row"], stored_only.values
    )  # fmt: skip


def test_duplicated_and_mixed_labels_are_refused_naming_the_request(tmp_path):
    with pytest.raises(StewardInputError, match=r"request id 'a' is labelled 2 times"):
        read_labels(pd.DataFrame({"request_id": ["a", "a"], "label": [1, 2]}))
    with pytest.raises(StewardInputError, match=r"request id 'a' has a label for the whole request and labels for single rows"):
        read_labels(pd.DataFrame({"request_id": ["a", "a"], "row": [None, 1], "label": [1, 2]}))
    with pytest.raises(StewardInputError, match=r"missing column\(s\) 'label'"):
        read_labels(pd.DataFrame({"request_id": ["a"]}))
    with pytest.raises(StewardInputError, match="does not exist"):
        read_labels(tmp_path / "nope.csv")


def test_labels_from_a_sql_table(tmp_path):
    import sqlalchemy

    url = f"sqlite:///{tmp_path / 'labels.db'}"
    engine = sqlalchemy.create_engine(url)
    pd.DataFrame({"request_id": ["a", "b"], "label": [1.5, 2.5]}).to_sql("truth", engine, index=False)
    engine.dispose()
    labels = read_labels(url, table="truth")
    assert sorted(labels.request_ids) == ["a", "b"] and "table truth" in labels.source
    with pytest.raises(StewardInputError, match="needs --labels-table"):
        read_labels(url)
    with pytest.raises(StewardInputError, match="cannot read table 'missing'"):
        read_labels(url, table="missing")


def test_allocation_is_proportional_with_one_per_slice_first():
    assert allocate(np.array([80, 15, 5]), 10).tolist() == [8, 1, 1]
    assert allocate(np.array([3, 100]), 10).tolist() == [1, 9]
    assert allocate(np.array([2, 1]), 10).tolist() == [2, 1]  # never more than a slice has
    assert allocate(np.array([50, 50, 50]), 2).sum() == 2


def test_stratified_pick_takes_each_slices_least_confident_rows_with_seeded_ties():
    rng = np.random.default_rng(0)
    uncertainty = rng.random(1000)
    strata = np.where(np.arange(1000) < 800, "big", "small")
    picked = stratified_pick(uncertainty, strata, 50, seed=1)
    big, small = picked[strata[picked] == "big"], picked[strata[picked] == "small"]
    assert len(big) == 40 and len(small) == 10
    assert set(big) == set(np.argsort(-np.where(strata == "big", uncertainty, -1))[:40])
    ties = np.zeros(100)
    assert stratified_pick(ties, np.zeros(100), 10, seed=3).tolist() == stratified_pick(ties, np.zeros(100), 10, seed=3).tolist()
    assert stratified_pick(ties, np.zeros(100), 10, seed=3).tolist() != stratified_pick(ties, np.zeros(100), 10, seed=4).tolist()


def _capture_requests(uri, model, frame, *, name, start, probabilities=None, classes=None):
    from mlflow_steward.serving import ModelIdentity, open_sink
    from mlflow_steward.serving._capture import capture_rows, utc_timestamp

    sink = open_sink(uri)
    try:
        sink.write([
            capture_rows(frame.iloc[i : i + 1], model.predict(frame.iloc[i : i + 1]), request_id=f"r{i}",
                         identity=ModelIdentity(name=name, version="1"), timestamp=utc_timestamp(start + timedelta(seconds=i)),
                         probabilities=None if probabilities is None else probabilities[i : i + 1], classes=classes)
            for i in range(len(frame))
        ])  # fmt: skip
    finally:
        sink.close()


@pytest.fixture(scope="module")
def adult_xy(adult_path):
    frame = pd.read_csv(adult_path, na_values=["?"]).sample(1500, random_state=0).reset_index(drop=True)
    return frame.drop(columns=["salary"]), frame["salary"]


@pytest.fixture(scope="module")
def adult_model(adult_xy):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, y = adult_xy
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    cleaning = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), [c for c in X.columns if c not in categorical]),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), categorical),
    ])  # fmt: skip
    return Pipeline([("cleaning", cleaning), ("model", RandomForestClassifier(n_estimators=20, random_state=0))]).fit(X, y)


def test_review_queue_returns_the_lowest_margin_rows(mlflow_store, adult_xy, adult_model, tmp_path):
    import mlflow

    from mlflow_steward.serving import log_pipeline_model

    X, _ = adult_xy
    with mlflow.start_run():
        log_pipeline_model(adult_model, input_example=X.head(5), registered_model_name="adult")
    mlflow.MlflowClient().set_registered_model_alias("adult", "production", "1")
    window = X.iloc[:300].reset_index(drop=True)
    proba = adult_model.predict_proba(window)
    uri = str(tmp_path / "cap.db")
    _capture_requests(uri, adult_model, window, name="adult", start=datetime(2026, 3, 2, tzinfo=timezone.utc),
                      probabilities=proba, classes=list(adult_model.classes_))  # fmt: skip
    margin = margins(proba)

    flat = review_queue("adult", capture=uri, n=25, stratify=False, output=tmp_path / "queue.csv")
    lowest = {f"r{i}" for i in np.argsort(margin, kind="stable")[:25]}
    assert flat.kind == "margin" and flat.slice_column is None
    assert set(flat.frame["request_id"]) == lowest or np.allclose(np.sort(flat.frame["margin"]), np.sort(margin)[:25])
    assert flat.frame["margin"].is_monotonic_increasing  # least confident first
    written = pd.read_csv(tmp_path / "queue.csv", dtype={"request_id": str})
    assert {"request_id", "row", "label", "margin", "age", "workclass"} <= set(written.columns)
    assert written["label"].isna().all()

    by_sex = review_queue("adult", capture=uri, n=20, slice_column="sex")
    for sex, rows in by_sex.frame.groupby("slice"):
        inside = window["sex"].to_numpy() == sex
        assert np.allclose(np.sort(rows["margin"]), np.sort(margin[inside])[: len(rows)])
    assert by_sex.frame["slice"].value_counts().sum() == 20 and by_sex.frame["slice"].nunique() == 2


def test_review_queue_ranks_regression_rows_by_tree_spread(registered_house, tmp_path):
    window = registered_house.window.iloc[:200].reset_index(drop=True)
    uri = str(tmp_path / "cap.db")
    _capture_requests(uri, registered_house.model, window, name="house", start=datetime(2026, 3, 2, tzinfo=timezone.utc))
    queue = review_queue("house", capture=uri, n=10, stratify=False)
    forest = registered_house.model
    trees = np.column_stack([t.predict(forest[:-1].transform(window)) for t in forest[-1].estimators_])
    spread = trees.std(axis=1)
    assert queue.kind == "spread"
    assert np.allclose(np.sort(queue.frame["spread"].to_numpy())[::-1], np.sort(spread)[::-1][:10])
