"""The serving fast path: the fitted cleaning compiled, at model load, into one plan of array kernels.

A scikit-learn pipeline pays per call for what never changes between calls: input validation in
every step, column lookups by name, pandas frames built and taken apart, feature-name checks, and
thread start-up in the estimator. On one row that is most of the time (about 10 ms of cleaning for
a 1 ms boosted model). The plan does that work once:

* **Compile** (:func:`compile_plan`): every step before the estimator becomes an array kernel
  (``mlflow_steward.cleaning.array_kernel``), with column positions and category indices fixed;
  the estimator's feature names are checked once against the cleaning's output and then dropped
  from a shallow copy, so it is called with a plain float matrix and no name check.
* **Predict** (:class:`FastPlan`): the request frame (already checked by ``validate_frame``) is
  split into numpy columns, run through the kernels, stacked into one float matrix, checked for
  NaN, infinity and float32 overflow (once, for all the checks the estimator would repeat), and
  given to the estimator under ``sklearn.config_context(assume_finite=True)``;
  below :data:`SMALL_BATCH_ROWS` rows, with one OpenMP thread (waking threads costs more than one
  row) and ``n_jobs=1``.

The plan is exact: kernels do the steps' own arithmetic. Whenever an input is one the kernels do
not reproduce exactly (a value a step would refuse, a kernel's :class:`KernelFallback`, an
infinity reaching the estimator), that call goes to the pipeline, which answers or fails as it
always did. A model whose pipeline has a step without a kernel (a transformer of your own) is
served by the pipeline; :func:`load_predictor` says which, and why, in one log line, and the
status is recorded at log time in ``steward.json`` and the model metadata (``steward_fast_path``).

Switch it off with ``STEWARD_FAST_PATH=0`` or the model config ``{"fast_path": "0"}``.
"""

from __future__ import annotations

import copy
import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.pipeline import Pipeline

from mlflow_steward import names
from mlflow_steward.cleaning import (
    KernelFallback,
    KernelUnavailable,
    array_kernel,
    frame_columns,
    produces_sparse,
)

logger = logging.getLogger(__name__)

#: Below this many rows the estimator runs on one thread (OpenMP limited to 1, ``n_jobs=1``).
#: Measured with ``benchmarks/serving.py --threads`` (HistGradientBoosting, 2 shared cores, see
#: benchmarks/RESULTS.md): one thread was faster at every batch size up to 20,000 rows there, by
#: 7x and more, because waking a second thread on a busy machine costs more than it saves. The
#: threshold keeps all threads only for large batch-scoring calls, where an idle machine gains.
SMALL_BATCH_ROWS = 10_000

#: Larger values become infinity in estimators that predict in float32 (trees, forests), which
#: their input check refuses: such a matrix goes to the pipeline, whose checks then decide.
FLOAT32_MAX = float(np.finfo(np.float32).max)

OFF_VALUES = frozenset({"0", "false", "off", "no"})
SWITCHED_OFF = "switched off ({source})"
NOT_A_PIPELINE = "the model ({type}) is not a scikit-learn Pipeline of cleaning steps and an estimator"
NO_ESTIMATOR = "the pipeline's last step is not an estimator with predict"
NO_NAMES = "the pipeline was fitted without column names"
COLUMNS_NOT_IN_INPUT = "the pipeline was fitted with columns the model input does not have: {columns}"
SPARSE_OUTPUT = "the cleaning hands a sparse matrix to the estimator"
NAMES_DIFFER = "the estimator was fitted on other columns than the cleaning's output"
NESTED_NAMES = "{type} passes column names on to its fitted parts"
ENABLED = "{steps} cleaning steps compiled into array kernels; estimator {estimator}"


@dataclass(frozen=True)
class FastPathStatus:
    """Whether a model predicts through the compiled plan, and why (or why not)."""

    enabled: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "reason": self.reason}

    def describe(self) -> str:
        return f"steward fast path {'on' if self.enabled else 'off'}: {self.reason}"


class FastPlan:
    """Cleaning kernels + a name-free estimator copy, with the fitted pipeline as the fallback.

    ``predict``/``predict_proba`` take a validated request frame and return what the pipeline's
    would. ``calls`` and ``fallbacks`` count the calls served and those handed to the pipeline.
    """

    def __init__(self, pipeline: Any, columns: tuple[str, ...], kernels: tuple[Any, ...], estimator: Any) -> None:
        self.pipeline = pipeline
        self.columns = columns
        self.kernels = kernels
        self.estimator = estimator
        self.allow_nan = _allows_nan(estimator)
        self.small_estimator = _single_job(estimator)
        self.openmp = _openmp_controllers()
        self.calls = 0
        self.fallbacks = 0
        self._warned = False

    # -- the cleaned matrix ---------------------------------------------------------------------
    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The float matrix the estimator gets (raises :class:`KernelFallback` for the pipeline)."""
        columns = frame_columns(frame, self.columns)
        for kernel in self.kernels:
            columns = kernel(columns)
        block = _stack(columns)
        ordinary = np.abs(block) <= FLOAT32_MAX  # False for NaN, infinity and float32 overflow
        if not ordinary.all() and not (self.allow_nan and (ordinary | np.isnan(block)).all()):
            raise KernelFallback("values the estimator's own checks must see (infinity, > float32)")
        return block

    # -- predicting -----------------------------------------------------------------------------
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self._run("predict", frame)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self._run("predict_proba", frame)

    def _run(self, method: str, frame: pd.DataFrame) -> np.ndarray:
        self.calls += 1
        try:
            block = self.transform(frame)
        except KernelFallback:
            self.fallbacks += 1
            return getattr(self.pipeline, method)(frame)
        except Exception as exc:  # a kernel must never fail a call the pipeline can answer
            self.fallbacks += 1
            if not self._warned:
                self._warned = True
                logger.warning("steward fast path: kernel failed (%s: %s); this call used the pipeline",
                               type(exc).__name__, exc, exc_info=True)  # fmt: skip
            return getattr(self.pipeline, method)(frame)
        try:
            return self._estimate(method, block)
        except Exception:  # the estimator refused: let the pipeline answer or raise its own error
            self.fallbacks += 1
            return getattr(self.pipeline, method)(frame)

    def _estimate(self, method: str, block: np.ndarray) -> np.ndarray:
        small = block.shape[0] < SMALL_BATCH_ROWS
        estimator = self.small_estimator if small else self.estimator
        with config_context(assume_finite=True):  # checked above, once
            if not (small and self.openmp):
                return getattr(estimator, method)(block)
            previous = [controller.get_num_threads() for controller in self.openmp]
            for controller in self.openmp:
                controller.set_num_threads(1)
            try:
                return getattr(estimator, method)(block)
            finally:
                for controller, threads in zip(self.openmp, previous):
                    controller.set_num_threads(threads)


# --- compiling -------------------------------------------------------------------------------
def compile_plan(pipeline: Any, input_columns: tuple[str, ...] | None = None) -> FastPlan:
    """Compile a fitted ``Pipeline`` (cleaning steps + estimator); :class:`KernelUnavailable` says why not.

    ``input_columns`` are the columns requests will have (the model's feature schema).
    """
    if type(pipeline) is not Pipeline:
        raise KernelUnavailable(NOT_A_PIPELINE.format(type=type(pipeline).__name__))
    steps = _flatten(pipeline)
    estimator = steps[-1][1]
    if estimator is None or isinstance(estimator, str) or not hasattr(estimator, "predict"):
        raise KernelUnavailable(NO_ESTIMATOR)
    columns = getattr(pipeline, "feature_names_in_", None)
    if columns is None:
        raise KernelUnavailable(NO_NAMES)
    columns = tuple(columns)  # the labels the frame has (strings for every model we log)
    if input_columns is not None:
        absent = [str(c) for c in columns if str(c) not in set(input_columns)]
        if absent:
            raise KernelUnavailable(COLUMNS_NOT_IN_INPUT.format(columns=absent))
    transformers = steps[:-1]
    kernels = []
    for name, step in transformers:
        try:
            kernels.append(array_kernel(step))
        except KernelUnavailable as exc:
            raise KernelUnavailable(f"step {name!r}: {exc}") from None
    if transformers and produces_sparse(transformers[-1][1]):
        raise KernelUnavailable(SPARSE_OUTPUT)
    return FastPlan(pipeline, columns, tuple(kernels), _name_free(estimator, transformers))


def _flatten(pipeline: Any) -> list[tuple[str, Any]]:
    """Nested ``Pipeline`` steps inlined, ``None``/``"passthrough"`` steps kept (identity kernels)."""
    flat: list[tuple[str, Any]] = []
    for name, step in pipeline.steps:
        if type(step) is Pipeline:
            flat += [(f"{name}/{inner}", s) for inner, s in _flatten(step)]
        else:
            flat.append((name, step))
    return flat


def _name_free(estimator: Any, transformers: list[tuple[str, Any]]) -> Any:
    """A shallow copy of the estimator without ``feature_names_in_``, once its names are checked."""
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is None:
        return estimator
    if "feature_names_in_" not in vars(estimator) or _holds_names(estimator):
        raise KernelUnavailable(NESTED_NAMES.format(type=type(estimator).__name__))
    if transformers:
        try:
            produced = [str(c) for c in transformers[-1][1].get_feature_names_out()]
        except Exception as exc:  # a step that cannot name its outputs: cannot check, so no plan
            raise KernelUnavailable(f"{NAMES_DIFFER} (cannot name them: {exc})") from None
        if produced != [str(c) for c in fitted]:
            raise KernelUnavailable(NAMES_DIFFER)
    stripped = copy.copy(estimator)
    del stripped.feature_names_in_
    return stripped


def _holds_names(estimator: Any) -> bool:
    """Whether a fitted part of the estimator (a sub-estimator) was fitted with column names."""
    for key, value in vars(estimator).items():
        if not key.endswith("_"):
            continue
        parts = value if isinstance(value, (list, tuple)) else [value]
        for part in parts:
            if hasattr(part, "get_params") and getattr(part, "feature_names_in_", None) is not None:
                return True
    return False


def _allows_nan(estimator: Any) -> bool:
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(estimator).input_tags.allow_nan)
    except Exception:  # no tags (not a scikit-learn estimator): NaN goes through the pipeline
        return False


def _single_job(estimator: Any) -> Any:
    """The estimator with ``n_jobs=1`` (a shallow copy) when it would start workers, else itself."""
    n_jobs = getattr(estimator, "n_jobs", None)
    if n_jobs in (None, 1) or "n_jobs" not in vars(estimator):
        return estimator
    single = copy.copy(estimator)
    single.n_jobs = 1
    return single


def _openmp_controllers() -> list[Any]:
    """threadpoolctl's controllers of the OpenMP runtimes loaded (scikit-learn's own among them)."""
    try:
        from threadpoolctl import ThreadpoolController

        return list(ThreadpoolController().select(user_api="openmp").lib_controllers)
    except Exception as exc:  # threadpoolctl missing or unusable: threads stay as they are
        logger.debug("no OpenMP control: %s", exc)
        return []


# --- kernel output -> the estimator's matrix -------------------------------------------------
def _stack(columns: list[np.ndarray]) -> np.ndarray:
    """The estimator's matrix, in Fortran order like ``numpy.asarray`` of the pipeline's frame (a
    linear model's BLAS call then sums in the same order, to the last bit)."""
    out = np.empty((len(columns[0]) if columns else 0, len(columns)), dtype=np.float64, order="F")
    for j, column in enumerate(columns):
        if column.dtype.kind not in "fiub":  # text (or a time) for the estimator: its checks decide
            raise KernelFallback(f"output column {j} is {column.dtype}, not numeric")
        out[:, j] = column
    return out


# --- loading -------------------------------------------------------------------------------------
def _switched_off(config: dict[str, Any]) -> str | None:
    env = os.environ.get(names.ENV_FAST_PATH)
    if env is not None and env.strip().lower() in OFF_VALUES:
        return f"{names.ENV_FAST_PATH}={env}"
    value = config.get(names.MODEL_CONFIG_FAST_PATH)
    if env is None and (value is False or str(value).strip().lower() in OFF_VALUES):
        return f"model config {names.MODEL_CONFIG_FAST_PATH}={value!r}"
    return None


def fast_path_status(pipeline: Any, input_columns: tuple[str, ...] | None = None) -> FastPathStatus:
    """Whether ``pipeline`` compiles into a plan (what log time records in the model)."""
    try:
        plan = compile_plan(pipeline, input_columns)
    except KernelUnavailable as exc:
        return FastPathStatus(False, str(exc))
    except Exception as exc:  # never fail logging or loading a model over its fast path
        return FastPathStatus(False, f"could not compile: {type(exc).__name__}: {exc}")
    return FastPathStatus(True, _enabled_reason(plan))


def _enabled_reason(plan: FastPlan) -> str:
    return ENABLED.format(steps=len(plan.kernels), estimator=type(plan.estimator).__name__)


def load_predictor(pipeline: Any, input_columns: tuple[str, ...] | None, config: dict[str, Any] | None = None):
    """``(predictor, status)``: the compiled plan when it can be used, else the pipeline itself.

    Called by ``StewardModel.load_context``; logs one line saying which, and why: INFO when the
    plan is used or switched off on purpose, WARNING when a step without kernel keeps it off.
    """
    off = _switched_off(dict(config or {}))
    if off is not None:
        logger.info(FastPathStatus(False, SWITCHED_OFF.format(source=off)).describe())
        return pipeline, FastPathStatus(False, SWITCHED_OFF.format(source=off))
    try:
        predictor = compile_plan(pipeline, input_columns)
    except KernelUnavailable as exc:
        status = FastPathStatus(False, str(exc))
    except Exception as exc:  # never fail loading a model over its fast path
        status = FastPathStatus(False, f"could not compile: {type(exc).__name__}: {exc}")
    else:
        status = FastPathStatus(True, _enabled_reason(predictor))
        logger.info(status.describe())
        return predictor, status
    # a model that could be several times faster is not: say so where `mlflow models serve` shows it
    # (a bare estimator has no cleaning to compile: nothing is lost, so that is only INFO)
    has_cleaning = type(pipeline).__name__ == "Pipeline" and len(getattr(pipeline, "steps", ())) > 1
    logger.log(logging.WARNING if has_cleaning else logging.INFO, status.describe())
    return pipeline, status
