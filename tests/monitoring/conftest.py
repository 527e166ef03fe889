"""Monitoring fixtures: synthetic training distributions for simulation, and a housing train/window split.

Simulation draws samples from known distributions on a fine grid: a sample of any size is then its
multinomial counts per grid value, profiled through the same code as raw rows (frequency weights),
so a window of 100,000 rows costs as little as one of 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlflow_steward.monitoring import CHECKS, DriftConfig, Profile, column_profile
from mlflow_steward.monitoring._alarms import decide
from mlflow_steward.monitoring._checks import run_checks

NO_MIN_EFFECT = {check: 0.0 for check in CHECKS}


def _grid(dist, low: float, high: float, k: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    edges = np.linspace(low, high, k + 1)
    probs = np.diff(dist.cdf(edges))
    return (edges[:-1] + edges[1:]) / 2, probs / probs.sum()


def synthetic_columns() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Ten training distributions (value grid, probabilities): symmetric, skewed, heavy-tailed,
    discrete, binary, with missing values, a few categories, and a long tail of 300 categories."""
    cols: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    cols["normal"] = _grid(stats.norm(), -6, 6)
    v, p = _grid(stats.norm(), -5, 5)
    cols["lognormal"] = (np.exp(v), p)
    cols["heavy_tail"] = (np.exp(1.5 * v), p)
    cols["uniform"] = _grid(stats.uniform(), 0, 1, 200)
    cols["exponential"] = _grid(stats.expon(), 0, 20)
    k = np.arange(0, 30)
    cols["poisson"] = (k.astype(float), stats.poisson(3).pmf(k) / stats.poisson(3).pmf(k).sum())
    cols["binary"] = (np.array([0.0, 1.0]), np.array([0.9, 0.1]))
    v, p = _grid(stats.norm(), -6, 6)
    cols["with_missing"] = (np.append(v, np.nan), np.append(p * 0.95, 0.05))
    cols["category"] = (np.array(list("abcde"), dtype=object), np.array([0.5, 0.3, 0.15, 0.049, 0.001]))
    r = np.arange(1, 301)
    z = 1 / r**1.2
    cols["long_tail"] = (np.array([f"k{i}" for i in r], dtype=object), z / z.sum())
    return cols


def sample_profile(columns, n: int, rng: np.random.Generator, like: Profile | None = None) -> Profile:
    """The profile of ``n`` rows drawn from ``columns`` (each column independently)."""
    out = []
    for name, (levels, probs) in columns.items():
        counts = rng.multinomial(n, probs)
        keep = counts > 0
        kind = "categorical" if levels.dtype == object else "numeric"
        layout = None if like is None else like.column(name).layout
        out.append(column_profile(name, levels[keep], kind=kind, weights=counts[keep], layout=layout))
    return Profile(columns=tuple(out), rows=n)


@dataclass
class Simulation:
    alarms: int  # repetitions with at least one alarm
    reps: int
    by_check: dict[tuple[str, str], int]  # (column, check) -> repetitions where it alarmed


def simulate(columns, *, n_reference: int, n: int, reps: int, config: DriftConfig, seed: int,
             alter=None) -> Simulation:  # fmt: skip
    """Repeat: draw a training sample and a window (``alter(columns)`` changes the window's
    distribution), check, count repetitions with an alarm."""
    rng = np.random.default_rng(seed)
    window_columns = alter(dict(columns)) if alter else columns
    alarms, by_check = 0, {}
    for _ in range(reps):
        reference = sample_profile(columns, n_reference, rng)
        window = sample_profile(window_columns, n, rng, like=reference)
        fired = [o for o in decide(run_checks(reference, window, config), config) if o.alarm]
        alarms += bool(fired)
        for o in fired:
            by_check[(o.column, o.check)] = by_check.get((o.column, o.check), 0) + 1
    return Simulation(alarms, reps, by_check)


@pytest.fixture(scope="session")
def sim():
    """Simulation helpers (see this module)."""
    return SimpleNamespace(columns=synthetic_columns, sample_profile=sample_profile, simulate=simulate,
                           NO_MIN_EFFECT=NO_MIN_EFFECT, grid=_grid)  # fmt: skip


@pytest.fixture(scope="session")
def housing_split(housing_path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Housing features (no target), shuffled: 16,000 training rows and the other 4,640 as a window."""
    frame = pd.read_csv(housing_path).drop(columns=["median_house_value"])
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    return frame.iloc[:16000].reset_index(drop=True), frame.iloc[16000:].reset_index(drop=True)


@pytest.fixture(scope="session")
def housing_reference(housing_split) -> Profile:
    from mlflow_steward.monitoring import build_profile

    return build_profile(housing_split[0], progress=False)


@dataclass
class Registered:
    uri: str  # tracking/registry URI
    name: str
    model: object  # the fitted pipeline
    profile: Profile
    train: pd.DataFrame
    window: pd.DataFrame


def _housing_pipeline(train: pd.DataFrame, target: pd.Series):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    numeric = [c for c in train.columns if c != "ocean_proximity"]
    cleaning = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         ["ocean_proximity"]),
    ])  # fmt: skip
    model = Pipeline([("cleaning", cleaning), ("model", RandomForestRegressor(n_estimators=10, max_depth=8, random_state=0))])
    return model.fit(train, target)


@pytest.fixture(scope="module")
def registered_house(tmp_path_factory, _template_store, housing_path):
    """A housing forest logged with its reference profile, registered as ``house`` v1 @production
    (a store of its own for the module; MLFLOW_TRACKING_URI points at it meanwhile)."""
    import shutil

    import mlflow

    from mlflow_steward.monitoring import fit_reference_profile, log_reference_profile
    from mlflow_steward.serving import log_pipeline_model

    tmp = tmp_path_factory.mktemp("registered")
    shutil.copy(_template_store, tmp / "mlflow.db")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    frame = pd.read_csv(housing_path).sample(frac=1.0, random_state=1).reset_index(drop=True)
    target = frame.pop("median_house_value")
    train, window = frame.iloc[:6000], frame.iloc[6000:9000].reset_index(drop=True)
    model = _housing_pipeline(train, target.iloc[:6000])
    profile = fit_reference_profile(model, train, frame.iloc[9000:11000])
    patch = pytest.MonkeyPatch()
    patch.setenv("MLFLOW_TRACKING_URI", uri)
    patch.setenv("MLFLOW_REGISTRY_URI", uri)
    patch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    patch.chdir(tmp)
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = mlflow.create_experiment("models", artifact_location=(tmp / "artifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment):
        log_reference_profile(profile)
        log_pipeline_model(model, input_example=train.head(5), registered_model_name="house",
                           reference_profile=profile.to_dict())  # fmt: skip
    mlflow.MlflowClient().set_registered_model_alias("house", "production", "1")
    try:
        yield Registered(uri=uri, name="house", model=model, profile=profile, train=train, window=window)
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
        patch.undo()
