"""The registry's number formatting is the package's one formatter (:mod:`mlflow_steward._format`)."""

from mlflow_steward._format import fmt, fmt_interval, fmt_p

__all__ = ["fmt", "fmt_interval", "fmt_p"]
