"""The ensemble estimators: scikit-learn meta-estimators over fitted member pipelines.

:class:`EnsembleRegressor` and :class:`EnsembleClassifier` take ``estimators`` (a list of
``(name, estimator)``, each usually a whole cleaning + model pipeline) and a ``method``:

``mean``
    plain average (classification: of the probabilities, i.e. soft voting);
``weighted``
    convex weights (non-negative, summing to one) minimising the loss on out-of-fold predictions
    (:func:`._weights.simplex_weights`);
``stacking``
    a meta-learner (``final_estimator``; default ``RidgeCV`` / ``LogisticRegression``) fitted on
    out-of-fold predictions only;
``greedy``
    Caruana's ensemble selection with replacement on out-of-fold predictions
    (:func:`._greedy.greedy_selection`).

No combiner ever sees in-sample predictions: ``fit`` gets the members' out-of-fold predictions
either from the caller (``oof_predictions``, e.g. those logged by tuning) or by
``cross_val_predict`` over ``cv``; then every member with a non-zero weight is fitted on all rows.
A member wrapped in :class:`sklearn.frozen.FrozenEstimator` is taken as already fitted (on the same
rows) and stored unwrapped. Regression minimises the squared error, classification the log loss.

This module travels inside logged models: it imports numpy, scipy and scikit-learn only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone, is_classifier
from sklearn.model_selection import check_cv, cross_val_predict

from ._greedy import check_predictions, greedy_selection
from ._losses import LOG_LOSS, SQUARED_ERROR, combine
from ._weights import simplex_weights

MEAN = "mean"
WEIGHTED = "weighted"
STACKING = "stacking"
GREEDY = "greedy"
METHODS = (MEAN, WEIGHTED, STACKING, GREEDY)

MSG_BAD_METHOD = "{cls}: method must be one of {valid}, got {method!r}"
MSG_NO_ESTIMATORS = "{cls}: estimators must be a non-empty list of (name, estimator) pairs, got {value!r}"
MSG_BAD_ESTIMATOR_ITEM = "{cls}: estimators[{i}] must be a (name, estimator) pair with a str name, got {item!r}"
MSG_DUPLICATE_NAME = "{cls}: estimator name {name!r} is used more than once; names must be unique"
MSG_OOF_SHAPE = "{cls}: oof_predictions must have shape {expected} (members, rows{classes}), got {shape}"


def _unfrozen(estimator: Any) -> Any | None:
    """The fitted estimator inside a ``FrozenEstimator``, else ``None``."""
    try:
        from sklearn.frozen import FrozenEstimator
    except ImportError:  # scikit-learn < 1.6
        return None
    return estimator.estimator if isinstance(estimator, FrozenEstimator) else None


class _BaseEnsemble(BaseEstimator):
    """Shared logic of the regressor and the classifier (see the module docstring)."""

    def __init__(
        self,
        estimators: list[tuple[str, Any]],
        *,
        method: str = MEAN,
        final_estimator: Any = None,
        cv: Any = 5,
        n_iterations: int = 50,
    ) -> None:
        self.estimators = estimators
        self.method = method
        self.final_estimator = final_estimator
        self.cv = cv
        self.n_iterations = n_iterations

    # --- validation ---------------------------------------------------------------------------
    def _check_params(self) -> tuple[list[str], list[Any]]:
        cls = type(self).__name__
        if self.method not in METHODS:
            raise ValueError(MSG_BAD_METHOD.format(cls=cls, valid=", ".join(METHODS), method=self.method))
        if not isinstance(self.estimators, (list, tuple)) or not self.estimators:
            raise ValueError(MSG_NO_ESTIMATORS.format(cls=cls, value=self.estimators))
        names, members = [], []
        for i, item in enumerate(self.estimators):
            if not isinstance(item, (list, tuple)) or len(item) != 2 or not isinstance(item[0], str):
                raise ValueError(MSG_BAD_ESTIMATOR_ITEM.format(cls=cls, i=i, item=item))
            if item[0] in names:
                raise ValueError(MSG_DUPLICATE_NAME.format(cls=cls, name=item[0]))
            names.append(item[0])
            members.append(item[1])
        return names, members

    def _check_oof(self, oof: Any, n_members: int, n_rows: int) -> np.ndarray:
        preds = np.asarray(oof, dtype=float)
        k = len(self.classes_) if self._is_classifier else None
        expected = (n_members, n_rows) if k is None else (n_members, n_rows, k)
        if preds.shape != expected:
            raise ValueError(
                MSG_OOF_SHAPE.format(
                    cls=type(self).__name__, expected=expected, classes=", classes" if k else "", shape=preds.shape
                )
            )
        return preds

    # --- fitting ------------------------------------------------------------------------------
    @property
    def _is_classifier(self) -> bool:
        return is_classifier(self)

    @property
    def _loss(self) -> str:
        return LOG_LOSS if self._is_classifier else SQUARED_ERROR

    def _encode(self, y: Any) -> np.ndarray:
        raise NotImplementedError

    def fit(self, X: Any, y: Any, *, oof_predictions: Any = None) -> _BaseEnsemble:
        """Fit the combiner on out-of-fold predictions, then the members on all of ``X``.

        Args:
            X, y: the training rows (whatever the member pipelines take).
            oof_predictions: the members' out-of-fold predictions of these rows, shape
                ``(n_members, n_rows)`` (classification: ``(n_members, n_rows, n_classes)``
                probabilities in ``classes_`` order); ``None``: computed with
                ``cross_val_predict`` over ``cv``. Ignored for ``method="mean"``.
        """
        names, members = self._check_params()
        target = self._encode(y)
        self.names_ = list(names)
        self.selection_ = None
        if self.method == MEAN:
            self.weights_ = np.full(len(members), 1.0 / len(members))
            self.final_estimator_ = None
        else:
            if oof_predictions is None:
                oof = self._cross_val_predict(members, X, y)
            else:
                oof = self._check_oof(oof_predictions, len(members), len(target))
            self.weights_, self.final_estimator_, self.selection_ = self._fit_combiner(oof, target)
        self.estimators_ = [
            self._fit_member(member, X, y) if self.weights_ is None or self.weights_[i] > 0 else None
            for i, member in enumerate(members)
        ]
        return self

    def _fit_member(self, member: Any, X: Any, y: Any) -> Any:
        fitted = _unfrozen(member)
        return fitted if fitted is not None else clone(member).fit(X, y)

    def _cross_val_predict(self, members: list[Any], X: Any, y: Any) -> np.ndarray:
        cv = check_cv(self.cv, y, classifier=self._is_classifier)
        method = "predict_proba" if self._is_classifier else "predict"
        return np.stack(
            [np.asarray(cross_val_predict(clone(m), X, y, cv=cv, method=method), dtype=float) for m in members]
        )

    def _fit_combiner(self, oof: np.ndarray, target: np.ndarray) -> tuple[np.ndarray | None, Any, Any]:
        """``(weights, fitted meta-learner, greedy selection)`` from out-of-fold predictions."""
        if self.method == MEAN:
            return np.full(oof.shape[0], 1.0 / oof.shape[0]), None, None
        if self.method == WEIGHTED:
            return simplex_weights(oof, target, loss=self._loss), None, None
        if self.method == GREEDY:
            selection = greedy_selection(oof, target, loss=self._loss, n_iterations=self.n_iterations)
            return selection.weights, None, selection
        final = clone(self.final_estimator) if self.final_estimator is not None else self._default_final()
        final.fit(self._meta_features(oof), target)
        return None, final, None

    def cross_fit_predictions(self, oof_predictions: Any, y: Any, folds: Any) -> np.ndarray:
        """Honest out-of-fold predictions of the ensemble itself, from its members' OOF predictions.

        For each fold, the combiner (weights, greedy selection or meta-learner; the ``mean`` needs
        none) is fitted on the other folds' rows and predicts this fold's rows, so no row's
        ensemble prediction used its own target. ``folds``: the fold of each row (``0..K-1``),
        the folds that produced ``oof_predictions``. Returns ``(n_rows,)`` predictions
        (classification: ``(n_rows, n_classes)`` probabilities). Needs a fitted ensemble (for
        ``classes_``) and does not change it.
        """
        target = self._encode_fitted(y)
        oof = self._check_oof(oof_predictions, len(self.names_), len(target))
        folds = np.asarray(folds)
        out = np.zeros(oof.shape[1:], dtype=float)
        for fold in np.unique(folds):
            held, rest = folds == fold, folds != fold
            weights, final, _ = self._fit_combiner(oof[:, rest], target[rest])
            out[held] = self._apply(oof[:, held], weights, final)
        return out

    # --- predicting ---------------------------------------------------------------------------
    def _member_output(self, estimator: Any, X: Any) -> np.ndarray:
        raise NotImplementedError

    def member_predictions(self, X: Any) -> np.ndarray:
        """Each member's prediction (classification: probabilities) stacked: ``(m, n[, k])``.

        Members left out of the ensemble (zero weight) give zeros.
        """
        outputs = [None if est is None else self._member_output(est, X) for est in self.estimators_]
        shape = next(o.shape for o in outputs if o is not None)
        return np.stack([np.zeros(shape) if o is None else o for o in outputs])

    def _apply(self, preds: np.ndarray, weights: np.ndarray | None, final: Any) -> np.ndarray:
        if final is None:
            return combine(preds, weights)
        features = self._meta_features(preds)
        if self._is_classifier:
            proba = np.zeros((features.shape[0], len(self.classes_)))
            proba[:, np.asarray(final.classes_, dtype=np.int64)] = final.predict_proba(features)
            return proba
        return np.asarray(final.predict(features), dtype=float)

    def _combined(self, X: Any) -> np.ndarray:
        return self._apply(self.member_predictions(X), self.weights_, self.final_estimator_)

    def member_weights(self) -> dict[str, float]:
        """Each member's weight in the combination (stacking: the meta-learner's coefficient on the
        member, for regression and binary classification; NaN with more classes)."""
        if self.weights_ is not None:
            return {name: float(w) for name, w in zip(self.names_, self.weights_)}
        coef = np.atleast_2d(np.asarray(getattr(self.final_estimator_, "coef_", np.nan), dtype=float))
        if coef.shape == (1, len(self.names_)):
            return {name: float(c) for name, c in zip(self.names_, coef[0])}
        return {name: float("nan") for name in self.names_}


class EnsembleRegressor(RegressorMixin, _BaseEnsemble):
    """An ensemble of regressors; ``predict`` combines the members' predictions."""

    def _encode(self, y: Any) -> np.ndarray:
        return np.asarray(y, dtype=float)

    _encode_fitted = _encode

    def _default_final(self) -> Any:
        from sklearn.linear_model import RidgeCV

        return RidgeCV(alphas=np.logspace(-3, 3, 13))

    @staticmethod
    def _meta_features(preds: np.ndarray) -> np.ndarray:
        return preds.T

    def _member_output(self, estimator: Any, X: Any) -> np.ndarray:
        return np.asarray(estimator.predict(X), dtype=float)

    def predict(self, X: Any) -> np.ndarray:
        """The combined prediction of every row of ``X``."""
        return self._combined(X)


class EnsembleClassifier(ClassifierMixin, _BaseEnsemble):
    """An ensemble of classifiers combining their class probabilities (soft voting for ``mean``).

    ``predict_proba`` is the combination of the members' ``predict_proba`` (columns in
    ``classes_`` order); ``predict`` is the class with the highest combined probability.
    """

    def _encode(self, y: Any) -> np.ndarray:
        labels = np.asarray(y)
        self.classes_ = np.unique(labels)
        return np.searchsorted(self.classes_, labels)

    def _encode_fitted(self, y: Any) -> np.ndarray:
        return np.searchsorted(self.classes_, np.asarray(y))

    def _default_final(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000)

    def _meta_features(self, preds: np.ndarray) -> np.ndarray:
        if preds.shape[2] == 2:
            return preds[:, :, 1].T  # the positive class's probability per member
        return preds.transpose(1, 0, 2).reshape(preds.shape[1], -1)

    def _member_output(self, estimator: Any, X: Any) -> np.ndarray:
        proba = np.asarray(estimator.predict_proba(X), dtype=float)
        fitted = np.asarray(estimator.classes_)
        if len(fitted) == len(self.classes_) and np.array_equal(fitted, self.classes_):
            return proba
        aligned = np.zeros((proba.shape[0], len(self.classes_)))
        aligned[:, np.searchsorted(self.classes_, fitted)] = proba
        return aligned

    def predict_proba(self, X: Any) -> np.ndarray:
        """Combined class probabilities, ``(n_rows, n_classes)`` in ``classes_`` order."""
        return self._combined(X)

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest combined probability."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


__all__ = ["METHODS", "EnsembleClassifier", "EnsembleRegressor", "check_predictions"]
