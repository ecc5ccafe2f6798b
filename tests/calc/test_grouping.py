"""The integer-code group-by agrees with pandas' groupby (the reference implementation) on random data."""
import numpy as np
import pandas as pd
import pytest

from calc.grouping import KeySpace, Groups


@pytest.mark.parametrize("scale", [1.0, 0.5, 1000.0])  # whole days (histogram path), halves and large (sort path)
def test_sums_means_and_medians_match_pandas(scale):
    rng = np.random.default_rng(7)
    n = 20_000
    a = pd.Categorical(rng.choice(["Search", "Feed", "Market", "(blank)"], n))
    day = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    values = rng.integers(0, 300, n) * scale
    values = np.where(rng.random(n) < 0.3, np.nan, values)
    frame = pd.DataFrame({"a": a, "day": day, "v": values})
    space = KeySpace([frame], ("a", "day"))
    codes = space.codes(frame)
    groups = Groups(space, [codes])
    present = np.flatnonzero(groups.count(codes) > 0)
    got = pd.concat([groups.label_frame(present), pd.DataFrame({
        "n": groups.count(codes)[present], "sum": groups.total(codes, values, min_count=1)[present],
        "mean": groups.mean(codes, values)[present], "median": groups.median(codes, values)[present]})], axis=1)
    reference = frame.groupby(["a", "day"], observed=True)["v"].agg(["size", "sum", "mean", "median", "count"])
    reference.loc[reference["count"] == 0, "sum"] = np.nan
    reference = reference.reset_index()
    reference["a"] = reference["a"].astype(str)
    reference = reference.sort_values(["a", "day"]).reset_index(drop=True)
    assert got["a"].tolist() == reference["a"].tolist()
    assert (got["day"].to_numpy() == reference["day"].to_numpy(dtype="datetime64[ns]")).all()
    np.testing.assert_allclose(got["n"], reference["size"])
    for column in ("sum", "mean", "median"):
        np.testing.assert_allclose(got[column], reference[column], equal_nan=True, rtol=1e-12)


def test_tables_with_different_categories_share_one_key_space():
    spend = pd.DataFrame({"ch": pd.Categorical(["Feed", "Search"])})
    leads = pd.DataFrame({"ch": pd.Categorical(["Search", "Market", "Search"])})
    space = KeySpace([spend, leads], ("ch",))
    assert list(space.labels(np.arange(space.size))["ch"]) == ["Feed", "Market", "Search"]
    assert space.codes(spend).tolist() == [0, 2] and space.codes(leads).tolist() == [2, 1, 2]
