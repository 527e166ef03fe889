"""The demo dataset's cleaning: the feature engineering of the California housing example."""

from __future__ import annotations


def demo_cleaning_config():
    """Ratio features and RBF similarity to clusters of (latitude, longitude), as in the book."""
    from mlflow_steward.cleaning import CleaningConfig

    return CleaningConfig(
        ratios=(
            ("rooms_per_house", "total_rooms", "households"),
            ("bedrooms_ratio", "total_bedrooms", "total_rooms"),
            ("people_per_house", "population", "households"),
        ),
        cluster_similarity={"columns": ["latitude", "longitude"], "n_clusters": 10, "gamma": 1.0},
    )
