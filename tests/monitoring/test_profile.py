"""Reference profiles: what they hold (against numpy/scipy), exact merges of chunks, JSON round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring import Profile, ProfileConfig, build_profile, merge_profiles


def test_numeric_summary_matches_numpy_and_scipy(housing_split, housing_reference):
    train = housing_split[0]
    for name in ("median_income", "population", "total_bedrooms"):
        values = train[name].dropna().to_numpy()
        column = housing_reference.column(name)
        m = column.moments
        assert column.missing == train[name].isna().sum() and column.count == len(values)
        assert m.mean == pytest.approx(values.mean(), rel=1e-12)
        assert m.variance == pytest.approx(values.var(ddof=1), rel=1e-12)
        n = m.count
        assert (m.m3 / n) / (m.m2 / n) ** 1.5 == pytest.approx(stats.skew(values), rel=1e-10)
        assert (m.m4 / n) / (m.m2 / n) ** 2 - 3 == pytest.approx(stats.kurtosis(values), rel=1e-10)
        assert (column.minimum, column.maximum) == (values.min(), values.max())
        # edges: the distinct inverted-CDF quantiles strictly inside the range
        expected = np.unique(np.quantile(values, np.arange(1, 20) / 20, method="inverted_cdf"))
        expected = expected[(expected > values.min()) & (expected < values.max())]
        assert np.array_equal(np.asarray(column.layout.inner), expected)
        # counts: [low, e0), [e0, e1) ... [e_last, high], nothing outside the training range
        edges = column.layout.edges()
        inner_counts = [np.sum((values >= a) & (values < b)) for a, b in zip(edges[:-2], edges[1:-1])]
        inner_counts.append(np.sum(values >= edges[-2]))
        assert list(column.counts) == [0, *inner_counts, 0]


def test_categorical_summary(housing_split, housing_reference):
    column = housing_reference.column("ocean_proximity")
    expected = housing_split[0]["ocean_proximity"].value_counts()
    assert column.layout.categories == tuple(expected.index)  # most frequent first
    assert column.counts == (*expected.to_numpy().tolist(), 0)
    assert column.layout.truncated == 0


def test_chunk_profiles_merge_exactly_into_the_whole(housing_split, housing_reference):
    train = housing_split[0]
    chunks = [build_profile(train.iloc[i : i + 1234], like=housing_reference, progress=False) for i in range(0, len(train), 1234)]
    merged = merge_profiles(chunks)
    assert merged.rows == housing_reference.rows
    for whole, part in zip(housing_reference.columns, merged.columns):
        assert (part.counts, part.missing, part.layout) == (whole.counts, whole.missing, whole.layout)
        if whole.moments is not None:
            a, b = whole.moments, part.moments
            assert a.count == b.count
            assert b.mean == pytest.approx(a.mean, rel=1e-12)
            assert b.variance == pytest.approx(a.variance, rel=1e-12)
            assert b.m3 == pytest.approx(a.m3, rel=1e-9)
            assert b.m4 == pytest.approx(a.m4, rel=1e-9)
            assert (part.minimum, part.maximum) == (whole.minimum, whole.maximum)


def test_frequency_weights_equal_repeated_rows():
    rng = np.random.default_rng(0)
    values = np.round(rng.normal(size=300), 1)
    weights = rng.integers(0, 5, size=300)
    frame = pd.DataFrame({"x": values, "c": np.where(values > 0, "pos", "neg")})
    weighted = build_profile(frame, weights=weights, progress=False)
    repeated = build_profile(frame.loc[frame.index.repeat(weights)].reset_index(drop=True), progress=False)
    for a, b in zip(weighted.columns, repeated.columns):
        assert (a.counts, a.missing, a.layout) == (b.counts, b.missing, b.layout)
    assert weighted.column("x").moments.variance == pytest.approx(repeated.column("x").moments.variance, rel=1e-12)


def test_json_round_trip_is_exact(housing_reference):
    again = Profile.from_json(housing_reference.to_json())
    assert again == housing_reference


def test_profiles_of_different_layouts_do_not_merge(housing_split):
    a = build_profile(housing_split[0].iloc[:500], progress=False)
    b = build_profile(housing_split[0].iloc[500:1000], progress=False)
    with pytest.raises(StewardInputError, match="like=reference"):
        a.merge(b)


def test_categories_compare_as_text_and_unseen_values_are_named():
    reference = build_profile(pd.DataFrame({"code": ["1", "2", "2", None]}), progress=False)
    window = build_profile(pd.DataFrame({"code": [1.0, 2.0, 3.0, np.nan, 3.0]}), like=reference, progress=False)
    column = window.column("code")
    assert column.counts == (1, 1, 2) and column.missing == 1
    assert column.unseen == (("3", 2),) and column.unseen_distinct == 1


def test_outputs_are_profiled_with_the_role_prediction():
    frame = pd.DataFrame({"x": np.arange(100.0)})
    profile = build_profile(frame, predictions=np.arange(100) % 2, probabilities=np.full((100, 2), 0.5),
                            classes=["no", "yes"], progress=False)  # fmt: skip
    assert profile.names("prediction") == ("prediction", "probability/no", "probability/yes")
    assert profile.task == "classification" and profile.classes == ("no", "yes")


def test_too_many_categories_are_cut_and_said_so():
    frame = pd.DataFrame({"id": [f"v{i % 50}" for i in range(1000)]})
    profile = build_profile(frame, config=ProfileConfig(max_categories=10), progress=False)
    column = profile.column("id")
    assert len(column.layout.categories) == 10 and column.layout.truncated == 40
    assert column.counts[-1] == 800


def test_unknown_profile_config_key_names_the_closest():
    with pytest.raises(StewardInputError, match="did you mean 'n_bins'"):
        ProfileConfig.from_dict({"nbins": 10})


def test_long_columns_are_summarised_in_chunks_with_the_same_numbers():
    """600,000 values (three chunks): moments as numpy's on the whole column; infinities count as missing."""
    rng = np.random.default_rng(5)
    values = rng.lognormal(size=600_000)
    values[[3, 400_000]] = np.inf
    values[10] = np.nan
    column = build_profile(pd.DataFrame({"x": values}), progress=False).column("x")
    finite = values[np.isfinite(values)]
    assert column.missing == 3 and column.count == finite.shape[0]
    assert column.moments.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert column.moments.variance == pytest.approx(finite.var(ddof=1), rel=1e-12)
    assert (column.minimum, column.maximum) == (finite.min(), finite.max())


@pytest.mark.parametrize("kind", ["continuous", "rounded", "few values"])
def test_weighted_and_plain_quantile_edges_agree(kind):
    from mlflow_steward.monitoring._summarize import quantile_edges

    rng = np.random.default_rng(6)
    values = {"continuous": rng.normal(size=100_001), "rounded": np.round(rng.exponential(size=99_999), 1),
              "few values": rng.integers(0, 7, 5000).astype(float)}[kind]  # fmt: skip
    plain = quantile_edges(values, None, 20)
    weighted = quantile_edges(values, np.ones(values.shape[0], dtype=np.int64), 20)
    assert plain[:2] == weighted[:2] and np.array_equal(plain[2], weighted[2])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_read_in_parts_profiles_like_the_whole(housing_split, housing_reference, tmp_path, suffix):
    from mlflow_steward.monitoring import iter_table, profile_parts

    window = housing_split[1].assign(extra=1)
    path = tmp_path / f"window{suffix}"
    window.to_csv(path, index=False) if suffix == ".csv" else window.to_parquet(path)
    parts, extra = profile_parts(iter_table(path, batch_rows=700), housing_reference, progress=False)
    whole = build_profile(window, like=housing_reference, progress=False)
    assert extra == ("extra",)
    assert parts.rows == whole.rows == len(window)
    for a, b in zip(parts.columns, whole.columns):
        assert (a.counts, a.missing, a.minimum, a.maximum) == (b.counts, b.missing, b.minimum, b.maximum)
        if a.moments is not None:
            assert a.moments.mean == pytest.approx(b.moments.mean, rel=1e-12)
            assert a.moments.variance == pytest.approx(b.moments.variance, rel=1e-12)


def test_text_in_a_later_part_names_the_row_of_the_file(housing_split, housing_reference, tmp_path):
    from mlflow_steward.monitoring import iter_table, profile_parts

    window = housing_split[1].copy()
    window["households"] = window["households"].astype(object)
    window.loc[2500, "households"] = "many"
    path = tmp_path / "window.csv"
    window.to_csv(path, index=False)
    with pytest.raises(StewardInputError, match=r"'households' must be numeric .* got 'many' \(str\) in row 2500"):
        profile_parts(iter_table(path, batch_rows=1000), housing_reference, source=f"data file {path}", progress=False)
