"""``steward review``: the model's least confident answers of a window, for people to label.

Uncertainty of a row:

* classification: the *margin*, top class probability minus the runner-up (from the captured
  probabilities, else the model's ``predict_proba``); the smallest margins come first;
* regression: the *spread* (standard deviation) of the predictions of the model's trees or ensemble
  members (``estimators_`` of RandomForest/ExtraTrees/Bagging or of our ensembles), widest first;
  for other models, the *predicted error*: a gradient-boosted model of ``|target - prediction|``
  fitted on the version's test set, largest first.

The queue is stratified by a slice column (default: the first categorical input): the ``n`` rows
are shared out in proportion to the slices' sizes (largest remainders; every slice gets one when
``n`` allows), and each slice gives its least confident rows. Ties are broken by a seeded shuffle,
so the same call gives the same queue. Rows already labelled are left out. Each row keeps its
``request_id`` and ``row`` and an empty ``label`` column: fill it in, and ``steward capture label``
or ``steward monitor --labels`` joins it back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring._context import ModelContext, model_context
from mlflow_steward.monitoring._model import load_profile, resolve_model
from mlflow_steward.monitoring._source import captured_rows, window_of

MARGIN = "margin"
SPREAD = "spread"
PREDICTED_ERROR = "predicted_error"
BAD_N = "--n must be a whole number >= 1, got {value!r}"
BAD_OUTPUT = "--output {path}: unsupported file type; use .csv, .csv.gz or .parquet"
NO_ROWS = "no unlabelled captured rows of model {model!r} in {uri} for since={since} until={until}"
UNKNOWN_SLICE = "--slice {column!r} is not an input of the model; inputs: {columns}"
NO_PROBABILITIES = "model {model}: the capture holds no class probabilities and the model gives none"
NO_RANKING = (
    "model {model}: cannot rank regression rows by uncertainty: the model has no trees or ensemble members, "
    "and the version records no test set to fit a model of its errors on"
)


@dataclass(frozen=True)
class ReviewQueue:
    """The rows to label (``frame``), how they were ranked, and where they were written."""

    frame: pd.DataFrame
    kind: str  # margin | spread | predicted_error
    slice_column: str | None
    candidates: int  # unlabelled captured rows of the window
    output: Path | None

    def summary(self) -> str:
        by = f", stratified by {self.slice_column}" if self.slice_column else ""
        where = f" to {self.output}" if self.output is not None else ""
        return (f"{len(self.frame):,} least confident of {self.candidates:,} unlabelled rows (by {self.kind}{by})"
                f"{where}")  # fmt: skip


def margins(probabilities: np.ndarray) -> np.ndarray:
    """Top class probability minus the runner-up, per row."""
    ordered = np.sort(np.asarray(probabilities, dtype=float), axis=1)
    return ordered[:, -1] - ordered[:, -2]


def allocate(sizes: np.ndarray, n: int) -> np.ndarray:
    """Rows per slice: proportional to ``sizes`` (largest remainders), one each first when ``n`` allows,
    never more than a slice has."""
    sizes = np.asarray(sizes, dtype=int)
    n = min(n, int(sizes.sum()))
    take = np.zeros(len(sizes), dtype=int)
    if n >= np.count_nonzero(sizes):
        take = np.minimum(sizes, 1)
    while take.sum() < n:
        room = sizes - take
        share = (n * sizes / sizes.sum()) - take
        share[room <= 0] = -np.inf
        take[int(np.argmax(share))] += 1
    return take


def stratified_pick(uncertainty: np.ndarray, strata: np.ndarray, n: int, *, seed: int = 0) -> np.ndarray:
    """Positions of the ``n`` least confident rows (``uncertainty``: higher = less confident), shared
    out over ``strata`` by :func:`allocate`; ties broken by a seeded shuffle."""
    rng = np.random.default_rng(seed)
    shuffle = rng.permutation(len(uncertainty))
    labels, codes = np.unique(strata.astype(str), return_inverse=True)
    take = allocate(np.bincount(codes, minlength=len(labels)), n)
    picked = []
    for code, count in enumerate(take):
        if count == 0:
            continue
        members = shuffle[codes[shuffle] == code]  # shuffled order, then a stable sort: seeded ties
        order = members[np.argsort(-uncertainty[members], kind="stable")]
        picked.extend(order[:count].tolist())
    picked = np.array(picked, dtype=int)
    return picked[np.argsort(-uncertainty[picked], kind="stable")]


def _pipeline_parts(context: ModelContext) -> tuple[Any, Any, Any]:
    """(wrapper, the fitted pipeline, its final estimator) of a model of ours."""
    wrapper = context.wrapper
    pipeline = getattr(wrapper, "pipeline", None)
    if pipeline is None or not hasattr(pipeline, "steps"):
        return wrapper, pipeline, None
    return wrapper, pipeline, pipeline.steps[-1][1]


def _valid(wrapper: Any, features: pd.DataFrame) -> pd.DataFrame:
    from mlflow_steward.serving import validate_frame

    schema = getattr(wrapper, "schema", None)
    return validate_frame(features, schema) if schema is not None else features


def regression_uncertainty(context: ModelContext, features: pd.DataFrame) -> tuple[np.ndarray, str]:
    """(uncertainty per row, kind): member spread when the model has members, else predicted error."""
    wrapper, pipeline, final = _pipeline_parts(context)
    frame = _valid(wrapper, features) if wrapper is not None else features
    members = getattr(final, "estimators_", None)
    if members is not None and len(members) > 1:
        transformed = pipeline[:-1].transform(frame) if len(pipeline.steps) > 1 else frame
        flat = [m for m in np.ravel(np.asarray(members, dtype=object)) if hasattr(m, "predict")]
        predictions = np.column_stack([np.asarray(m.predict(transformed), dtype=float) for m in flat])
        return predictions.std(axis=1), SPREAD
    test = context.test_set()
    if test is None or pipeline is None or context.target not in test.columns:
        raise StewardInputError(NO_RANKING.format(model=context.ref.describe()))
    from sklearn.ensemble import HistGradientBoostingRegressor

    test_features = _valid(wrapper, test.drop(columns=[context.target]))
    error = np.abs(test[context.target].to_numpy(dtype=float) - np.asarray(pipeline.predict(test_features), dtype=float))
    transform = pipeline[:-1] if len(pipeline.steps) > 1 else None
    X_test = transform.transform(test_features) if transform is not None else test_features
    X = transform.transform(frame) if transform is not None else frame
    residual = HistGradientBoostingRegressor(max_iter=200, random_state=0).fit(X_test, error)
    return np.asarray(residual.predict(X), dtype=float), PREDICTED_ERROR


def _output_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise StewardInputError(BAD_OUTPUT.format(path=path))


def review_queue(
    model: str,
    *,
    capture: str,
    n: int = 200,
    since: Any = None,
    until: Any = None,
    output: str | Path | None = None,
    slice_column: str | None = None,
    stratify: bool = True,
    seed: int = 0,
    echo: Callable[[str], None] | None = None,
) -> ReviewQueue:
    """The ``n`` least confident unlabelled predictions of a capture window (see the module docstring);
    ``stratify=False``: the ``n`` least confident rows of the whole window."""
    say = echo or (lambda _text: None)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise StewardInputError(BAD_N.format(value=n))
    path = Path(output) if output is not None else None
    kind = _output_kind(path) if path is not None else None
    ref = resolve_model(model)
    try:
        profile = load_profile(ref)
    except StewardInputError:  # a model logged without a profile and without training records
        profile = None
    context = model_context(ref, profile)
    frame, _ = captured_rows(capture, since=since, until=until, model_name=ref.name)
    if len(frame):
        frame = frame.loc[frame["label"].isna()].reset_index(drop=True)
    if len(frame) == 0:
        raise StewardInputError(NO_ROWS.format(model=ref.name, uri=capture, since=since or "-", until=until or "-"))
    captured = window_of(frame)
    features = captured.features
    if not stratify:
        slice_column = None
    elif slice_column is None:
        slice_column = next((c for c in context.categorical if c in features.columns), None)
    elif slice_column not in features.columns:
        raise StewardInputError(UNKNOWN_SLICE.format(column=slice_column, columns=", ".join(map(str, features.columns))))
    say(f"model: {ref.describe()} ({context.task}); {len(frame):,} unlabelled captured rows")
    if context.task == "classification":
        proba = captured.probabilities
        if proba is None:
            wrapper = context.wrapper
            if wrapper is None or not hasattr(wrapper, "predict_proba"):
                raise StewardInputError(NO_PROBABILITIES.format(model=ref.describe()))
            proba = pd.DataFrame(wrapper.predict_proba(features))
        margin = margins(proba.to_numpy(dtype=float))
        uncertainty, shown, kind_name = -margin, margin, MARGIN
    else:
        uncertainty, kind_name = regression_uncertainty(context, features)
        shown = uncertainty
    strata = features[slice_column].astype(object).where(features[slice_column].notna(), "<missing>").to_numpy() \
        if slice_column else np.zeros(len(frame))  # fmt: skip
    picked = stratified_pick(uncertainty, strata, n, seed=seed)
    queue = pd.DataFrame({
        "request_id": frame["request_id"].to_numpy()[picked], "row": frame["row"].to_numpy()[picked],
        "ts": frame["ts"].astype(str).to_numpy()[picked], "prediction": np.asarray(captured.predictions, dtype=object)[picked],
        kind_name: shown[picked], "slice": strata[picked] if slice_column else "", "label": None,
    })  # fmt: skip
    inputs = features.iloc[picked].reset_index(drop=True)
    inputs = inputs.rename(columns={c: f"feature:{c}" for c in inputs.columns if c in queue.columns})
    queue = pd.concat([queue, inputs], axis=1)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        queue.to_csv(path, index=False) if kind == "csv" else queue.to_parquet(path, index=False)
    return ReviewQueue(frame=queue, kind=kind_name, slice_column=slice_column, candidates=len(frame), output=path)
