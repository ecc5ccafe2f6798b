"""addin.io.arrow_to_frame gives the frame pyarrow's own Table.to_pandas(date_as_object=False) gives.

read_table converts Parquet column by column (no 2-D blocks, text chunks recoded through small tables)
for speed; these tests hold it to the library's own conversion as the reference: equal values, dtypes,
category labels in the same order, codes of the same width, the same index.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from addin.io import arrow_to_frame, read_table


def _same_as_pyarrow(table: pa.Table) -> pd.DataFrame:
    expected, got = table.to_pandas(date_as_object=False), arrow_to_frame(table)
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_categorical=True)
    for position, column in enumerate(expected.columns):  # by position: a name may occur twice
        mine, theirs = got.iloc[:, position], expected.iloc[:, position]
        assert mine.dtype == theirs.dtype, column
        if isinstance(theirs.dtype, pd.CategoricalDtype):
            assert list(mine.cat.categories) == list(theirs.cat.categories), column
            assert mine.cat.codes.dtype == theirs.cat.codes.dtype, column
    assert type(got.index) is type(expected.index) and got.index.equals(expected.index)
    return got


def test_chunks_with_their_own_dictionaries():
    # Parquet writes one dictionary per row group: the same labels in another order, and new ones
    chunks = [pa.array(["b", "a", "b"]).dictionary_encode(), pa.array(["c", "a"]).dictionary_encode()]
    table = pa.table({"channel": pa.chunked_array(chunks),
                      "lead_id": pa.chunked_array([[1, 2, 3], [4, 5]]),
                      "date": pa.chunked_array([pa.array([19000, 19001, 19002], pa.date32()),
                                                pa.array([19003, 19004], pa.date32())]),
                      "cost": pa.chunked_array([[1.5, 2.0, 0.25], [1.0, 2.0]])})
    got = _same_as_pyarrow(table)
    assert got["channel"].tolist() == ["b", "a", "b", "c", "a"]
    assert str(got["date"].iloc[0]) == "2022-01-08 00:00:00"  # day 19000


def test_columns_it_leaves_to_pyarrow():
    # nulls in every kind, timestamps, plain text, booleans, int32: pyarrow's own conversion, in place
    table = pa.table({"channel": pa.array(["x", None, "y"]).dictionary_encode(),
                      "date": pa.array([19000, None, 19002], pa.date32()),
                      "lead_id": pa.array([1, None, 3]), "cost": pa.array([1.0, None, 2.0]),
                      "seen": pa.array([pa.scalar(1, pa.timestamp("ms"))] * 3),
                      "note": pa.array(["a", "b", "c"]), "flag": pa.array([True, False, True]),
                      "small": pa.array([1, 2, 3], pa.int32())})
    _same_as_pyarrow(table)


def test_empty_many_labels_ordered_and_pandas_written_files():
    _same_as_pyarrow(pa.table({"channel": pa.array(["a"]).dictionary_encode(),
                               "date": pa.array([1], pa.date32())}).slice(0, 0))
    # more than 127 and more than 32,767 labels: int16 and int32 codes, as pandas makes them
    for size in (300, 40_000):
        _same_as_pyarrow(pa.table({"store": pa.array([f"s{i}" for i in range(size)] * 2).dictionary_encode()}))
    _same_as_pyarrow(pa.table([pa.array([1, 2]), pa.array([3.0, 4.0])], names=["cost", "cost"]))  # a name twice
    ordered = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0]), pa.array(["lo", "hi"]), ordered=True)
    _same_as_pyarrow(pa.table({"tier": ordered}))
    buffer = io.BytesIO()  # pandas' own metadata (its index, its dtypes): left to pyarrow whole
    pq.write_table(pa.Table.from_pandas(pd.DataFrame({"a": [1, 2]}, index=[5, 6])), buffer)
    buffer.seek(0)
    got = _same_as_pyarrow(pq.read_table(buffer))
    assert got.index.tolist() == [5, 6]


def test_read_table_parquet_round_trip(tmp_path):
    # the file route itself: text stays dictionary-encoded on the way in, arriving as categories
    frame = pd.DataFrame({"lead_id": np.arange(6), "inquiry_date": pd.to_datetime(["2024-03-01"] * 6),
                          "channel": ["Search", "Feed"] * 3})
    path = tmp_path / "leads.parquet"
    frame.to_parquet(path, index=False)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None), path,
                   row_group_size=4)  # two row groups, no pandas metadata: the column-by-column route
    read = read_table(path, table="Leads")
    assert isinstance(read["channel"].dtype, pd.CategoricalDtype)
    assert read["channel"].tolist() == frame["channel"].tolist()
    assert read["lead_id"].tolist() == list(range(6))


@pytest.mark.parametrize("unit", ["ms", "us", "ns"])
def test_timestamps_are_pyarrows(unit):
    _same_as_pyarrow(pa.table({"date": pa.array([0, 86_400 * 10**3], pa.timestamp(unit))}))
