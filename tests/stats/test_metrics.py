"""The named metrics agree with scikit-learn's definitions (scikit-learn is a project dependency;
``stats`` itself does not import it)."""

from __future__ import annotations

import numpy as np
import pytest

from mlflow_steward.stats import METRICS, MetricDef

sk = pytest.importorskip("sklearn.metrics")

RNG = np.random.default_rng(7)
N = 300
Y_REG = RNG.normal(10, 3, N)
P_REG = Y_REG + RNG.normal(0, 2, N)
Y_BIN = (RNG.random(N) < 0.35).astype(int)
P_BIN = np.clip(0.3 * Y_BIN + 0.7 * RNG.random(N), 0, 1)
Y_MC = RNG.integers(0, 3, N)
P_MC = RNG.dirichlet([1, 1, 1], N) + np.eye(3)[Y_MC] * 0.5
P_MC /= P_MC.sum(axis=1, keepdims=True)


def test_registry_shape():
    assert set(METRICS) == {
        "rmse",
        "mae",
        "r2",
        "mape",
        "accuracy",
        "f1",
        "roc_auc",
        "log_loss",
        "brier",
    }
    for name, definition in METRICS.items():
        assert isinstance(definition, MetricDef)
        fn, _greater_is_better, _needs_proba = definition  # unpacks as a 3-tuple
        assert callable(fn) and fn.__name__ == name
    assert METRICS["r2"].greater_is_better and not METRICS["rmse"].greater_is_better
    assert METRICS["roc_auc"].needs_proba and not METRICS["accuracy"].needs_proba


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rmse", lambda: sk.root_mean_squared_error(Y_REG, P_REG)),
        ("mae", lambda: sk.mean_absolute_error(Y_REG, P_REG)),
        ("r2", lambda: sk.r2_score(Y_REG, P_REG)),
        ("mape", lambda: sk.mean_absolute_percentage_error(Y_REG, P_REG)),
    ],
)
def test_regression_metrics_match_sklearn(name, expected):
    assert METRICS[name].fn(Y_REG, P_REG) == pytest.approx(expected(), rel=1e-12)


def test_label_metrics_match_sklearn():
    pred = (P_BIN > 0.5).astype(int)
    assert METRICS["accuracy"].fn(Y_BIN, pred) == pytest.approx(sk.accuracy_score(Y_BIN, pred))
    assert METRICS["f1"].fn(Y_BIN, pred) == pytest.approx(sk.f1_score(Y_BIN, pred))
    pred_mc = P_MC.argmax(axis=1)
    assert METRICS["f1"].fn(Y_MC, pred_mc) == pytest.approx(
        sk.f1_score(Y_MC, pred_mc, average="macro")
    )


def test_string_labels_positive_class_is_the_greater():
    y = np.where(Y_BIN == 1, ">50K", "<=50K").astype(object)
    pred = np.where(P_BIN > 0.5, ">50K", "<=50K")
    assert METRICS["f1"].fn(y, pred) == pytest.approx(sk.f1_score(y, pred, pos_label=">50K"))
    assert METRICS["roc_auc"].fn(y, P_BIN) == pytest.approx(sk.roc_auc_score(Y_BIN, P_BIN))


def test_probability_metrics_match_sklearn():
    assert METRICS["roc_auc"].fn(Y_BIN, P_BIN) == pytest.approx(sk.roc_auc_score(Y_BIN, P_BIN))
    assert METRICS["log_loss"].fn(Y_BIN, P_BIN) == pytest.approx(sk.log_loss(Y_BIN, P_BIN))
    assert METRICS["brier"].fn(Y_BIN, P_BIN) == pytest.approx(sk.brier_score_loss(Y_BIN, P_BIN))
    two_col = np.column_stack([1 - P_BIN, P_BIN])
    assert METRICS["roc_auc"].fn(Y_BIN, two_col) == pytest.approx(sk.roc_auc_score(Y_BIN, P_BIN))


def test_multiclass_probability_metrics_match_sklearn():
    assert METRICS["roc_auc"].fn(Y_MC, P_MC) == pytest.approx(
        sk.roc_auc_score(Y_MC, P_MC, multi_class="ovr", average="macro")
    )
    assert METRICS["log_loss"].fn(Y_MC, P_MC) == pytest.approx(sk.log_loss(Y_MC, P_MC))
    onehot = np.eye(3)[Y_MC]
    assert METRICS["brier"].fn(Y_MC, P_MC) == pytest.approx(((P_MC - onehot) ** 2).sum(1).mean())


def test_roc_auc_with_ties_matches_sklearn():
    scores = np.round(P_BIN, 1)
    assert METRICS["roc_auc"].fn(Y_BIN, scores) == pytest.approx(sk.roc_auc_score(Y_BIN, scores))


def test_pandas_inputs():
    pd = pytest.importorskip("pandas")
    y = pd.Series(np.where(Y_BIN == 1, "yes", "no"), dtype="string")
    pred = pd.Series(np.where(P_BIN > 0.5, "yes", "no"), dtype="string")
    assert METRICS["accuracy"].fn(y, pred) == pytest.approx(
        sk.accuracy_score(y.to_numpy(), pred.to_numpy())
    )
    assert METRICS["rmse"].fn(pd.Series(Y_REG), pd.Series(P_REG)) == pytest.approx(
        sk.root_mean_squared_error(Y_REG, P_REG)
    )
