"""Log a fitted scikit-learn pipeline as a pyfunc model that loads and serves with nothing of ours installed.

What is logged (``mlflow.pyfunc.log_model``):

* ``python_model``: a :class:`~mlflow_steward.serving.StewardModel`, stateless (MLflow pickles it);
* artifact ``pipeline``: the fitted pipeline, saved with skops and an explicit allow-list: every type
  skops reports as untrusted must come from a module we vouch for (:data:`TRUSTED_MODULE_PREFIXES`).
  Anything else, or a model skops cannot represent, is saved with cloudpickle; the choice and its
  reason go to ``steward.json`` and to the run tag ``steward.serialization``;
* artifact ``manifest`` (``steward.json``): serialisation, trusted types, task and the expected input
  columns with their kinds (what request validation checks);
* ``code_paths``: a minimal copy of the package (root modules plus ``serving``, ``cleaning``, the
  MLflow part of ``_compat`` and any sub-package whose classes the model holds) under a top-level
  name of its own, ``_mlflow_steward_<version>_<content hash>`` (every ``mlflow_steward`` in its
  sources rewritten to that name; made by ``_code_copy``). MLflow puts ``code_paths`` first on ``sys.path``; under its own name the copy can never
  hide the installed ``mlflow_steward`` (or another model's copy) in the same process, whichever is
  imported first. The pickled python model, the skops file (its ``__module__`` entries) and the
  trusted types name the copy, so a model always runs the code it was logged with;
* pinned requirements of what predicting imports (MLflow, scikit-learn, pandas, numpy, scipy,
  cloudpickle, skops), never ``mlflow-steward`` itself: our code travels in ``code_paths``;
* a signature of the outputs and one optional parameter, ``request_id``, but no input schema: our
  validation, not MLflow's casts, checks request values, so errors name the column in every payload
  form and cost no per-value Python work; the expected columns and their kinds are in
  ``steward.json``, the model metadata ``steward_features`` and the input example.
"""

from __future__ import annotations

import importlib
import json
import operator
import tempfile
import warnings
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from types import FunctionType
from typing import Any

from mlflow_steward import __version__, names
from mlflow_steward.serving._code_copy import (
    MODEL_CODE_PACKAGES,
    OUR_MODULE,
    as_installed,
    copy_module,
    packages_used_by,
    renamer,
    staged_copy,
)

#: Distributions a served model imports; pinned to the versions installed at log time.
MODEL_REQUIREMENTS: tuple[str, ...] = (
    "mlflow", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle",
    "prometheus-client",  # /metrics inside mlflow models serve (serving._metrics)
)  # fmt: skip

#: Module prefixes whose types we allow skops to load.
TRUSTED_MODULE_PREFIXES: tuple[str, ...] = (
    "sklearn.",
    "numpy.",
    "scipy.",
    "builtins.",
    "collections.",
    "functools.",
    "mlflow_steward.cleaning.",
    "mlflow_steward.ensemble.",
)

#: Logged with every model: MLflow lets ``load_model(..., model_config=...)`` (and the serving
#: environment's ``SERVING_MODEL_CONFIG``) override only keys the logged config already has.
DEFAULT_MODEL_CONFIG: dict[str, str] = {
    names.MODEL_CONFIG_CAPTURE_PATH: "",
    names.MODEL_CONFIG_MODEL_NAME: "",
    names.MODEL_CONFIG_MODEL_VERSION: "",
    names.MODEL_CONFIG_FAST_PATH: "",  # "0" turns the fast path off (serving._plan)
}

PIPELINE_FILES = {"skops": "pipeline.skops", "cloudpickle": "pipeline.pkl"}
MANIFEST_FILE = names.MODEL_MANIFEST_FILE

@dataclass(frozen=True)
class PackagedModel:
    """What :func:`log_pipeline_model` logged: the model URI and how it was serialised."""

    model_uri: str
    model_id: str | None
    run_id: str | None
    serialization: str  # "skops" or "cloudpickle"
    reason: str
    trusted_types: tuple[str, ...]
    pip_requirements: tuple[str, ...] = ()
    code_packages: tuple[str, ...] = ()
    code_package: str = ""  # the top-level name of the code copy inside the model


def choose_serialization(model: Any) -> tuple[str, tuple[str, ...], str]:
    """Decide between skops (preferred) and cloudpickle for ``model``.

    Returns ``(format, trusted_types, reason)``.
    """
    try:
        import skops.io as sio

        untrusted = tuple(sorted(sio.get_untrusted_types(data=sio.dumps(model))))
    except Exception as exc:  # skops cannot represent the object at all
        return "cloudpickle", (), f"skops could not serialise the model: {type(exc).__name__}: {exc}"
    foreign = [t for t in untrusted if not as_installed(t).startswith(TRUSTED_MODULE_PREFIXES)]
    if foreign:
        return "cloudpickle", (), "types outside the trusted modules: " + ", ".join(foreign)
    return "skops", untrusted, f"skops with {len(untrusted)} explicitly trusted types"


def model_requirements(serialization: str, extra: list[str] | None = None) -> list[str]:
    """``name==version`` of each distribution the served model imports (installed versions)."""
    wanted = [*MODEL_REQUIREMENTS, *(["skops"] if serialization == "skops" else [])]
    pins = []
    for distribution in wanted:
        try:
            pins.append(f"{distribution}=={importlib_metadata.version(distribution)}")
        except importlib_metadata.PackageNotFoundError:
            pins.append(distribution)
    return [*pins, *(extra or [])]


def _signature(example, predictions):
    """Signature of the outputs and the ``request_id`` parameter; no input schema, on purpose.

    With an input schema MLflow casts request values before the model sees them: its cast errors do
    not name the column in the ``instances``/``inputs`` forms, it refuses a missing value in a ``long``
    column and an int64 frame for a ``double`` one, and with ``Any`` types it checks every value in
    Python (about half the time of a 1,000-row forest prediction). Without it, the values reach
    :func:`~mlflow_steward.serving.validate_frame` as sent, which checks every column against its
    recorded kind, vectorised, and names the column. The expected columns and kinds are in
    ``steward.json``, in the model metadata ``steward_features`` and in the input example.
    """
    from mlflow.models import ModelSignature, infer_signature

    with warnings.catch_warnings():  # MLflow's hint about integer columns: no input schema here
        warnings.filterwarnings("ignore", message=".*integer column", category=UserWarning)
        inferred = infer_signature(example, predictions, params={names.PARAM_REQUEST_ID: ""})
    return ModelSignature(inputs=None, outputs=inferred.outputs, params=inferred.params)


def _task(model: Any) -> str:
    from sklearn.base import is_classifier

    try:
        classifier = is_classifier(model)
    except (AttributeError, TypeError):  # not a scikit-learn estimator: judge by its methods
        classifier = hasattr(model, "predict_proba") and hasattr(model, "classes_")
    return "classification" if classifier else "regression"


def _cloudpickle_renamed(model: Any, handle, name: str) -> None:
    """cloudpickle ``model`` with our classes and functions named as in the copy ``name``."""
    import cloudpickle

    rename = renamer(name)

    class RenamingPickler(cloudpickle.Pickler):
        def reducer_override(self, obj):
            module = getattr(obj, "__module__", None) if isinstance(obj, (type, FunctionType)) else None
            if isinstance(module, str) and OUR_MODULE.match(module):
                copy = importlib.import_module(rename(module))
                return operator.attrgetter(obj.__qualname__), (copy,)  # unpickles to the copy's object
            return super().reducer_override(obj)

    RenamingPickler(handle, protocol=cloudpickle.DEFAULT_PROTOCOL).dump(model)


def _save_pipeline(model: Any, directory: Path, serialization: str, code_package: str) -> Path:
    """Save the fitted pipeline, its references to our classes naming the code copy ``code_package``."""
    path = directory / PIPELINE_FILES[serialization]
    if serialization == "skops":
        import skops.io as sio

        from mlflow_steward.serving._compat_skops import rename_modules

        sio.dump(model, path)
        rename_modules(path, renamer(code_package))
    else:
        with open(path, "wb") as handle:
            _cloudpickle_renamed(model, handle, code_package)
    return path


def log_pipeline_model(
    model: Any,
    *,
    input_example: Any,
    name: str = names.MODEL_NAME_IN_RUN,
    code_packages: tuple[str, ...] = MODEL_CODE_PACKAGES,
    registered_model_name: str | None = None,
    metadata: dict[str, Any] | None = None,
    extra_pip_requirements: list[str] | None = None,
    model_config: dict[str, Any] | None = None,
    reference_profile: dict[str, Any] | None = None,
) -> PackagedModel:
    """Log a fitted sklearn pipeline (or ensemble) to the active run as a :class:`StewardModel` pyfunc.

    The signature is inferred from ``input_example`` and the model's predictions on it;
    ``model_config`` may set ``capture_path`` (see :mod:`mlflow_steward.serving`).
    ``reference_profile`` (a JSON-ready dict, built by ``monitoring``) travels inside the model as
    the artifact ``artifacts/reference_profile.json``; serving only writes it, never reads it.
    """
    import mlflow
    import pandas as pd

    from mlflow_steward.serving._plan import fast_path_status
    from mlflow_steward.serving._validation import FeatureSchema

    example = input_example if isinstance(input_example, pd.DataFrame) else pd.DataFrame(input_example)
    serialization, trusted, reason = choose_serialization(model)
    packages = tuple(dict.fromkeys([*code_packages, "serving", "_compat", *sorted(packages_used_by(model, trusted))]))
    signature = _signature(example, model.predict(example))
    code_package, code_dir = staged_copy(packages)
    copied_pyfunc = copy_module(code_package, "serving._pyfunc")
    trusted = tuple(map(renamer(code_package), trusted))
    manifest = {
        "serialization": serialization,
        "reason": reason,
        "trusted_types": list(trusted),
        "task": _task(model),
        "features": FeatureSchema.from_frame(example).to_dict(),
        "code_package": code_package,
        "package_version": __version__,
        "fast_path": fast_path_status(model, tuple(str(c) for c in example.columns)).to_dict(),
    }
    requirements = model_requirements(serialization, extra_pip_requirements)
    with tempfile.TemporaryDirectory(prefix="steward-model-") as tmp:
        tmp_path = Path(tmp)
        pipeline_path = _save_pipeline(model, tmp_path, serialization, code_package)
        manifest_path = tmp_path / MANIFEST_FILE
        manifest_path.write_text(json.dumps(manifest, indent=1))
        artifacts = {
            names.MODEL_ARTIFACT_PIPELINE: str(pipeline_path),
            names.MODEL_ARTIFACT_MANIFEST: str(manifest_path),
        }
        if reference_profile is not None:
            profile_path = tmp_path / names.REFERENCE_PROFILE_FILE
            profile_path.write_text(json.dumps(reference_profile, allow_nan=False))
            artifacts[names.MODEL_ARTIFACT_REFERENCE_PROFILE] = str(profile_path)
        suppressed = copied_pyfunc.CAPTURE_SUPPRESSED.set(True)  # the copy's flag: its class is logged
        try:
            info = mlflow.pyfunc.log_model(
                name=name,
                python_model=copied_pyfunc.StewardModel(),
                artifacts=artifacts,
                code_paths=[str(code_dir)],
                signature=signature,
                input_example=example,
                pip_requirements=requirements,
                registered_model_name=registered_model_name,
                metadata={**(metadata or {}), names.MODEL_METADATA_FEATURES: manifest["features"],
                          names.MODEL_METADATA_FAST_PATH: manifest["fast_path"]},
                model_config={**DEFAULT_MODEL_CONFIG, **(model_config or {})},
            )
        finally:
            copied_pyfunc.CAPTURE_SUPPRESSED.reset(suppressed)
    run = mlflow.active_run()
    if run is not None:
        mlflow.set_tag(names.TAG_SERIALIZATION, f"{serialization}: {reason}"[:5000])
    return PackagedModel(
        model_uri=info.model_uri,
        model_id=getattr(info, "model_id", None),
        run_id=run.info.run_id if run else None,
        serialization=serialization,
        reason=reason,
        trusted_types=trusted,
        pip_requirements=tuple(requirements),
        code_packages=packages,
        code_package=code_package,
    )
