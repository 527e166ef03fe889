"""The copy of our code that travels inside a logged model (``code_paths``), and its name.

A model carries a minimal copy of the package: the root modules, ``serving``, ``cleaning``, the MLflow
part of ``_compat`` and any sub-package whose classes the model holds (:func:`packages_used_by`),
under a top-level name of its own, ``_mlflow_steward_<version>_<content hash>``
(:func:`code_package_name`), with every ``mlflow_steward`` in its sources rewritten to that name
(:func:`model_code_dir`). MLflow puts ``code_paths`` first on ``sys.path``; under its own name the
copy can never hide the installed ``mlflow_steward`` (or another model's copy) in the same process.
:func:`as_installed` and :func:`renamer` translate module names between the installed package and
any copy; :func:`staged_copy` makes the copy importable in the logging process, so the pickled
python model and the saved pipeline can name it.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import re
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from mlflow_steward import __version__

#: Sub-packages of ``mlflow_steward`` a model needs at predict time (``serving`` is always added,
#: with ``_compat``, which holds the MLflow internals the serving wrapper relies on).
MODEL_CODE_PACKAGES: tuple[str, ...] = ("cleaning", "serving")

#: The part of ``_compat`` that travels: its MLflow module (the served wrapper's scoring-server
#: internals and ``UnwrappedPredict``), not Optuna's, which imports Optuna and serves no prediction.
MODEL_CODE_COMPAT: tuple[str, ...] = ("__init__.py", "mlflow")

#: Modules at the package root that the shipped sub-packages import.
MODEL_CODE_ROOT_MODULES: tuple[str, ...] = ("__init__.py", "names.py", "exceptions.py")

#: The code copy inside a model is the package ``CODE_PACKAGE_PREFIX + <version>_<hash>``.
CODE_PACKAGE_PREFIX = "_mlflow_steward_"
INSTALLED_PACKAGE = "mlflow_steward"

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_PACKAGE = _PACKAGE_DIR.name
_IGNORED = ("__pycache__", "resources")
# Our code under either name: the installed package, or a copy that travelled inside a model (a
# pipeline loaded from a logged model, e.g. an ensemble member, holds the copy's classes).
OUR_MODULE = re.compile(rf"^(?:{INSTALLED_PACKAGE}|{CODE_PACKAGE_PREFIX}[0-9A-Za-z_]+_[0-9a-f]{{12}})(?=\.|$)")


def as_installed(module: str) -> str:
    """``_mlflow_steward_0_1_0_<hash>.cleaning`` -> ``mlflow_steward.cleaning``; others unchanged."""
    return OUR_MODULE.sub(INSTALLED_PACKAGE, module, count=1)


def renamer(code_package: str):
    """A function naming our modules (installed or any copy) as in the copy ``code_package``."""
    return lambda module: OUR_MODULE.sub(code_package, module, count=1)


def _code_files(packages: tuple[str, ...]) -> list[tuple[str, Path]]:
    """``(path inside the package, source file)`` of the root modules and ``packages``, sorted."""
    files = [(module, _PACKAGE_DIR / module) for module in MODEL_CODE_ROOT_MODULES]
    for package in dict.fromkeys(packages):
        for source in sorted((_PACKAGE_DIR / package).rglob("*")):
            relative = source.relative_to(_PACKAGE_DIR)
            if package == "_compat" and relative.parts[1] not in MODEL_CODE_COMPAT:
                continue
            if source.is_file() and not set(relative.parts) & set(_IGNORED) and source.suffix != ".pyc":
                files.append((relative.as_posix(), source))
    return sorted(files)


def code_package_name(packages: tuple[str, ...] = MODEL_CODE_PACKAGES) -> str:
    """``_mlflow_steward_<version>_<hash>``: the top-level name of the code copy for ``packages``.

    The hash covers every copied file's path and bytes, so the same code gets the same name (two
    models logged by one release share their modules in a process) and any change another name.
    """
    digest = hashlib.sha256()
    for relative, source in _code_files(packages):
        digest.update(relative.encode() + b"\0" + source.read_bytes() + b"\0")
    version = re.sub(r"[^0-9A-Za-z]", "_", __version__)
    return f"{CODE_PACKAGE_PREFIX}{version}_{digest.hexdigest()[:12]}"


def _rewrite(text: str, name: str) -> str:
    return re.sub(rf"\b{INSTALLED_PACKAGE}\b", name, text)


def model_code_dir(destination: Path, packages: tuple[str, ...] = MODEL_CODE_PACKAGES) -> Path:
    """Write the code copy (root modules + ``packages``) as ``destination/<code_package_name>``.

    Returns the path of the copied package directory, suitable for ``code_paths``.
    """
    name = code_package_name(packages)
    target = Path(destination) / name
    for relative, source in _code_files(packages):
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix == ".py":
            path.write_text(_rewrite(source.read_text(encoding="utf-8"), name), encoding="utf-8")
        else:
            shutil.copy2(source, path)
    return target


_STAGING: Path | None = None
_STAGING_LOCK = threading.Lock()


def staged_copy(packages: tuple[str, ...]) -> tuple[str, Path]:
    """The code copy for ``packages``, written once per process into a directory appended to
    ``sys.path`` (removed at exit), so this process can import it to pickle references to it."""
    global _STAGING
    with _STAGING_LOCK:
        if _STAGING is None:
            _STAGING = Path(tempfile.mkdtemp(prefix="steward-model-code-"))
            atexit.register(shutil.rmtree, _STAGING, True)
            sys.path.append(str(_STAGING))
        name = code_package_name(packages)
        target = _STAGING / name
        if not target.is_dir():
            building = Path(tempfile.mkdtemp(prefix="building-", dir=_STAGING))
            model_code_dir(building, packages).rename(target)
            shutil.rmtree(building, ignore_errors=True)
        return name, target


def copy_module(name: str, module: str) -> ModuleType:
    """``<copy>.<module>`` (e.g. ``serving._pyfunc``) of the staged copy ``name``."""
    importlib.invalidate_caches()
    return importlib.import_module(f"{name}.{module}")


def packages_used_by(model: Any, trusted_types: tuple[str, ...] = ()) -> set[str]:
    """Sub-packages of ``mlflow_steward`` whose classes appear in ``model`` (estimators, params, steps)."""
    found: set[str] = set()
    prefix = _PACKAGE + "."

    def note(module: str) -> None:
        module = as_installed(module)
        if module.startswith(prefix):
            found.add(module.split(".")[1])

    for name in trusted_types:
        note(name)
    seen: set[int] = set()
    stack: list[Any] = [model]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, (str, bytes, int, float, bool, type(None))):
            continue
        seen.add(id(item))
        note(type(item).__module__)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif hasattr(item, "get_params"):
            try:
                stack.extend(item.get_params(deep=False).values())
            except Exception:  # an estimator-like object without sklearn's params protocol
                pass
            stack.extend(v for k, v in vars(item).items() if k.endswith("_") and not k.startswith("_"))
    return {p for p in found if (_PACKAGE_DIR / p).is_dir()}
