"""Parquet files joined without decoding: the rows, their order, statistics and bloom filters
survive, read back by DuckDB and pyarrow; files that cannot be joined as they are say why."""

from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binderops.warehouse.parquet import ParquetJoinError, join

START = datetime(2026, 3, 1, tzinfo=UTC)


def launches(first: int, count: int) -> pa.Table:
    """Launches number ``first`` to ``first + count - 1``: a part of the same whole."""
    numbers = range(first, first + count)
    return pa.table(
        {
            "timestamp": pa.array(
                [START + timedelta(minutes=n) for n in numbers], pa.timestamp("us", tz="UTC")
            ),
            "schema_version": pa.array([6 - n % 2 for n in numbers], pa.int64()),
            "spec": pa.array([f"owner{n % 17}/repo/HEAD" for n in numbers], pa.string()),
            "build_token": pa.array([None if n % 3 else n % 2 == 0 for n in numbers], pa.bool_()),
        }
    )


def write_parts(tmp_path, sizes: list[int]) -> list:
    parts, first = [], 0
    for number, size in enumerate(sizes):
        path = tmp_path / f"part-{number}.parquet"
        pq.write_table(launches(first, size), path, compression="zstd")
        parts.append(path)
        first += size
    return parts


def test_joined_parts_read_back_as_their_rows_in_order(tmp_path):
    parts = write_parts(tmp_path, [500, 1, 2000])
    month = tmp_path / "month.parquet"
    assert join(parts, month) == 2501
    whole = pq.read_table(month)
    assert whole.equals(pa.concat_tables(pq.read_table(p) for p in parts))
    metadata = pq.ParquetFile(month).metadata
    assert (metadata.num_rows, metadata.num_row_groups) == (2501, 3)
    # Each row group keeps its statistics, which readers use to skip it.
    last = metadata.row_group(2).column(0).statistics
    assert last.min == START + timedelta(minutes=501)
    assert last.max == START + timedelta(minutes=2500)
    con = duckdb.connect()
    path = str(month)
    assert con.execute(f"SELECT COUNT(*), COUNT(build_token) FROM '{path}'").fetchone() == (
        2501,
        sum(1 for n in range(2501) if n % 3 == 0),
    )


def test_bloom_filters_written_by_duckdb_still_answer_after_the_move(tmp_path):
    con = duckdb.connect()
    parts = []
    for number in range(3):
        path = tmp_path / f"day-{number}.parquet"
        con.execute(
            f"COPY (SELECT 'owner' || (i % 50 + {number * 50}) || '/repo' AS spec, i AS n "
            f"FROM range(5000) t(i)) TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
        )
        parts.append(path)
    month = tmp_path / "month.parquet"
    join(parts, month)
    probe = (
        "SELECT row_group_id, bloom_filter_excludes "
        f"FROM parquet_bloom_probe('{month}', 'spec', ?) ORDER BY row_group_id"
    )
    # owner120 is only in the third part: the filters of the first two exclude it.
    assert con.execute(probe, ["owner120/repo"]).fetchall() == [(0, True), (1, True), (2, False)]
    assert con.execute(
        f"SELECT COUNT(*) FROM '{month}' WHERE spec = 'owner120/repo'"
    ).fetchone() == (100,)


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=6))
def test_any_split_joins_back_to_the_whole(tmp_path_factory, sizes):
    folder = tmp_path_factory.mktemp("split")
    parts = write_parts(folder, sizes)
    month = folder / "month.parquet"
    assert join(parts, month) == sum(sizes)
    assert pq.read_table(month).equals(launches(0, sum(sizes)))


def test_files_that_cannot_be_joined_as_they_are_say_why(tmp_path):
    [one] = write_parts(tmp_path, [10])
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"n": [1, 2]}), other)
    with pytest.raises(ParquetJoinError, match=r"other\.parquet does not have the same schema"):
        join([one, other], tmp_path / "out.parquet")
    indexed = tmp_path / "indexed.parquet"
    pq.write_table(launches(0, 10), indexed, write_page_index=True)
    with pytest.raises(ParquetJoinError, match="page index"):
        join([one, indexed], tmp_path / "out.parquet")
    text = tmp_path / "text.parquet"
    text.write_text("not parquet at all")
    with pytest.raises(ParquetJoinError, match="not a Parquet file"):
        join([text], tmp_path / "out.parquet")
    with pytest.raises(ParquetJoinError, match="no Parquet files"):
        join([], tmp_path / "out.parquet")


ROWS = st.lists(
    st.tuples(
        st.datetimes(
            min_value=datetime(2018, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
        ),
        st.none() | st.text(max_size=20),
        st.none() | st.booleans(),
        st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    ),
    max_size=80,
)


def table_of(rows: list[tuple]) -> pa.Table:
    columns = list(zip(*rows)) if rows else [[], [], [], []]
    return pa.table(
        {
            "timestamp": pa.array(columns[0], pa.timestamp("us", tz="UTC")),
            "spec": pa.array(columns[1], pa.string()),
            "build_token": pa.array(columns[2], pa.bool_()),
            "n": pa.array(columns[3], pa.int64()),
        }
    )


@settings(max_examples=60, deadline=None)
@given(days=st.lists(ROWS, min_size=1, max_size=5))
def test_the_join_agrees_with_pyarrow_writing_the_month_itself(tmp_path_factory, days):
    """Differential: random days (text with any Unicode, nulls, extreme integers, dates from
    2018 to 2030), written as the archive writes its days, joined without decoding, and
    read back equal to the month pyarrow writes by decoding and encoding them all."""
    folder = tmp_path_factory.mktemp("differential")
    parts = []
    for number, rows in enumerate(days):
        path = folder / f"day-{number}.parquet"
        pq.write_table(table_of(rows), path, compression="zstd", write_statistics=["timestamp"])
        parts.append(path)
    joined, rewritten = folder / "joined.parquet", folder / "rewritten.parquet"
    assert join(parts, joined) == sum(len(rows) for rows in days)
    with pq.ParquetWriter(rewritten, table_of([]).schema, compression="zstd") as writer:
        for path in parts:
            writer.write_table(pq.read_table(path))
    assert pq.read_table(joined).equals(pq.read_table(rewritten))
    assert pq.read_table(joined).equals(pa.concat_tables(table_of(rows) for rows in days))
    for group in range(pq.ParquetFile(joined).metadata.num_row_groups):
        stats = pq.ParquetFile(joined).metadata.row_group(group).column(0).statistics
        rows = days[group] if len(days) == pq.ParquetFile(joined).metadata.num_row_groups else []
        if rows and stats is not None and stats.has_min_max:
            assert stats.min == min(r[0] for r in rows) and stats.max == max(r[0] for r in rows)
