"""Log a scikit-learn pipeline so that it loads and serves with nothing of ours installed.

Two things must travel with the model:

* our code: the fitted pipeline holds our cleaning transformers, so a minimal copy of the package
  (``mlflow_steward/__init__.py`` plus the sub-packages in :data:`MODEL_CODE_PACKAGES`) is logged as
  the model's ``code_paths``; MLflow puts it on ``sys.path`` before unpickling;
* a safe serialisation: MLflow 3's sklearn flavour saves with skops and refuses types it does not
  trust. We keep skops and pass an explicit allow-list: every type skops reports as untrusted must
  come from a module we vouch for (:data:`TRUSTED_MODULE_PREFIXES`). Anything else, or a model skops
  cannot represent, falls back to cloudpickle, and the choice and its reason are recorded as the tag
  ``steward.serialization`` on the run.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow_steward import names

#: Sub-packages of ``mlflow_steward`` a model needs at predict time.
MODEL_CODE_PACKAGES: tuple[str, ...] = ("cleaning",)

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

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class PackagedModel:
    """What :func:`log_pipeline_model` logged: the model URI and how it was serialised."""

    model_uri: str
    model_id: str | None
    run_id: str | None
    serialization: str  # "skops" or "cloudpickle"
    reason: str
    trusted_types: tuple[str, ...]


def model_code_dir(destination: Path, packages: tuple[str, ...] = MODEL_CODE_PACKAGES) -> Path:
    """Write a minimal copy of ``mlflow_steward`` (package root + ``packages``) under ``destination``.

    Returns the path of the copied package directory, suitable for ``code_paths``.
    """
    target = Path(destination) / "mlflow_steward"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(_PACKAGE_DIR / "__init__.py", target / "__init__.py")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "resources")
    for package in packages:
        shutil.copytree(_PACKAGE_DIR / package, target / package, ignore=ignore, dirs_exist_ok=True)
    return target


def choose_serialization(model: Any) -> tuple[str, tuple[str, ...], str]:
    """Decide between skops (preferred) and cloudpickle for ``model``.

    Returns ``(format, trusted_types, reason)``.
    """
    try:
        import skops.io as sio

        untrusted = tuple(sorted(sio.get_untrusted_types(data=sio.dumps(model))))
    except Exception as exc:  # skops cannot represent the object at all
        return "cloudpickle", (), f"skops could not serialise the model: {type(exc).__name__}: {exc}"
    foreign = [t for t in untrusted if not t.startswith(TRUSTED_MODULE_PREFIXES)]
    if foreign:
        return "cloudpickle", (), "types outside the trusted modules: " + ", ".join(foreign)
    return "skops", untrusted, f"skops with {len(untrusted)} explicitly trusted types"


def log_pipeline_model(
    model: Any,
    *,
    input_example: Any,
    name: str = names.MODEL_NAME_IN_RUN,
    code_packages: tuple[str, ...] = MODEL_CODE_PACKAGES,
    registered_model_name: str | None = None,
    metadata: dict[str, Any] | None = None,
    extra_pip_requirements: list[str] | None = None,
) -> PackagedModel:
    """Log a fitted sklearn pipeline to the active run with signature, input example and our code.

    The signature is inferred from ``input_example`` and the model's predictions on it.
    """
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    serialization, trusted, reason = choose_serialization(model)
    signature = infer_signature(input_example, model.predict(input_example))
    with tempfile.TemporaryDirectory(prefix="steward-code-") as tmp:
        code_dir = model_code_dir(Path(tmp), code_packages)
        info = mlflow.sklearn.log_model(
            model,
            name=name,
            code_paths=[str(code_dir)],
            serialization_format=serialization,
            skops_trusted_types=list(trusted) if serialization == "skops" else None,
            signature=signature,
            input_example=input_example,
            registered_model_name=registered_model_name,
            metadata=metadata,
            extra_pip_requirements=extra_pip_requirements,
        )
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
    )
