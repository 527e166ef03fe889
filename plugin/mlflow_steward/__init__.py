"""mlflow-steward: keeps classical scikit-learn models healthy after the notebook.

Importing the package does nothing visible and imports no heavy dependency: MLflow imports
plugins through entry points, and the package also travels inside every logged model
(``code_paths``), where only ``cleaning`` (and the serving wrapper) are needed.
Capabilities live in sub-packages: ``data``, ``cleaning``, ``tuning``, ``steps``, ``ensemble``, ``stats``,
``evaluation``, ``registry``, ``serving``, ``monitoring``, ``retrain``, ``cli``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
