"""Backfill on BigQuery: each file's lines go as they are, by a (free) load job, into a
staging table; GoogleSQL generated from the launch schemas decides each line there (the
statement ``decide_sql``, BigQuery's twin of ``native.decide_sql``); the few lines it leaves
undecided go through the Python path; and one MERGE statement gives every row its id and
adds the new ones to ``launches``. No streaming insert, and no decided line passes through
Python but to be read and sent.

What GoogleSQL leaves undecided, beyond what the DuckDB path leaves: a line that is not a
flat JSON object of scalar values (BigQuery keeps the first of two duplicate keys, Python
the last: a flat line's keys are counted), a number other than a plain integer, a string
with an escaped surrogate, and a spec with a ``%`` in it (GoogleSQL has no URL decoding).
A line that is not UTF-8 is never sent: Python decides it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..warehouse import schemas
from ..warehouse.schemas import Column, Table
from . import native
from .backfill import (
    PREFIX,
    ROW_COLUMNS,
    Loader,
    batches,
    numbered,
    open_archive,
    python_rows,
    reading,
)
from .privacy import FETCH_SITES

if TYPE_CHECKING:
    from ..warehouse.bigquery import BigQueryWarehouse

# Where each staged line is: its file and its number among the file's non-blank lines.
WHERE = (Column("file", "STRING", "REQUIRED", ""), Column("ordinal", "INT64", "REQUIRED", ""))
LINES = Table(
    "backfill_lines",
    "raw",
    (*WHERE, Column("line", "STRING", "REQUIRED", "the line as the file holds it")),
    None,
    None,
    (),
    "Archive lines on their way into launches (dropped after the merge).",
)
# The Python path's rows for the lines GoogleSQL left undecided, for the MERGE to give ids.
PYTHON = Table(
    "backfill_python",
    "raw",
    (WHERE[0], *schemas.table("launches").columns[1:]),
    None,
    None,
    (),
    "Launch rows of archive lines decided in Python (dropped after the merge).",
)

# A flat JSON object: keys without escapes, each value a string, a plain integer, true,
# false or null. Only such a line is decided in SQL, its keys counted (below).
_STRING = r'"(?:[^"\\]|\\.)*"'
_MEMBER = r'"[^"\\]*"\s*:\s*(?:' + _STRING + r"|-?[0-9]{1,15}|true|false|null)"
FLAT = r"^\s*\{\s*(?:" + _MEMBER + r"(?:\s*,\s*" + _MEMBER + r")*)?\s*\}\s*$"
KEYS = r'("[^"\\]*")\s*:'
# A string escaping half of a UTF-16 surrogate pair: Python rejects a lone one.
SURROGATE = r"\\u[dD][89a-fA-F]"


def _re(pattern: str) -> str:
    """A GoogleSQL raw string literal (none of the patterns holds a single quote)."""
    assert "'" not in pattern
    return f"r'{pattern}'"


def _whole(pattern: str) -> str:
    """``pattern`` matching a whole string (RE2's ``$`` is the end of the text)."""
    return _re(f"^(?:{pattern})$")


def _member(name: str) -> str:
    return f"doc[{native.literal(name)}]"


def decide_sql(lines: str) -> str:
    """The query deciding each line of the staging table ``lines``: its launch row (without
    its id) where decided, else ``decided`` is false. Parameters: ``@ingested_at`` and
    ``@default_origin``."""
    names = [n for n in native.columns() if n not in native.WRAPPERS]
    strings = ",\n    ".join(f"SAFE.STRING({_member(n)}) AS s_{n}" for n in names)
    versions = sorted(schemas.launch_event_schemas())
    version = " ".join(f"WHEN '{v}' THEN {v}" for v in versions)
    unwrapped = " AND ".join(f"{_member(w)} IS NULL" for w in native.WRAPPERS)
    fetch_sites = ", ".join(native.literal(s) for s in sorted(FETCH_SITES))
    boolean = "SAFE.BOOL(doc['{name}']) IS NOT NULL"
    return f"""WITH parsed AS (
  SELECT file, ordinal, line, SAFE.PARSE_JSON(line) AS doc
  FROM {lines}
), fields AS (
  SELECT file, ordinal, doc,
    CASE TO_JSON_STRING(doc['version']) {version} END AS v,
    {strings},
    SAFE.BOOL(doc['build_token']) AS build_token_value,
    {unwrapped} AS unwrapped,
    -- A flat object whose keys are all different: BigQuery and Python read it alike.
    REGEXP_CONTAINS(line, {_re(FLAT)}) AND NOT REGEXP_CONTAINS(line, {_re(SURROGATE)})
      AND (SELECT COUNT(DISTINCT k) = COUNT(*) FROM UNNEST(REGEXP_EXTRACT_ALL(line, {_re(KEYS)}))
        AS k) AS plain
  FROM parsed
), checked AS (
  SELECT file, ordinal, v AS version, unwrapped, plain,
    s_timestamp AS ts_text, s_provider AS provider, s_spec AS spec, s_status AS status,
    s_origin AS origin_text, s_ref AS ref_text, build_token_value,
    s_request_origin AS request_origin_text,
    {native.valid_sql("v", boolean)} AS valid
  FROM fields
), parsed_fields AS (
  SELECT *,
    IF(REGEXP_CONTAINS(ts_text, {_whole(native.TIMESTAMP)}),
      TIMESTAMP_TRUNC(SAFE_CAST(ts_text AS TIMESTAMP), MINUTE), NULL) AS minute,
    -- A spec privacy rules leave alone; one with % in it is Python's (no URL decoding here).
    spec = '' OR NOT REGEXP_CONTAINS(spec, r'[@?#;%]') AS spec_public,
    CASE
      WHEN request_origin_text IS NULL OR request_origin_text = ''
        OR request_origin_text IN ({fetch_sites}) THEN TRUE
      WHEN REGEXP_CONTAINS(request_origin_text, {_whole(native.PLAIN_ORIGIN)}) THEN
        NOT REGEXP_CONTAINS(REGEXP_REPLACE(request_origin_text, r'^https?://', ''), r'^[0-9.]+$')
        AND NOT REGEXP_CONTAINS(request_origin_text, r'[0-9]+(?:[.-][0-9]+){{3}}')
      ELSE FALSE
    END AS origin_public,
    REGEXP_EXTRACT(spec, r'(?s)^([^/]+)/[^/]+(?:/.*)?$') AS owner,
    REGEXP_EXTRACT(spec, r'(?s)^[^/]+/([^/]+)(?:/.*)?$') AS name,
    COALESCE(REGEXP_EXTRACT(spec, r'(?s)^[^/]+/[^/]+/(.*)$'), '') AS rest
  FROM checked
), split AS (
  SELECT *,
    CASE
      WHEN spec = '' THEN ''
      WHEN provider IN ('GitHub', 'Gist') THEN
        IF(owner IS NULL, spec, CONCAT(owner, '/', IF(provider = 'GitHub' AND ENDS_WITH(name, '.git'),
          LEFT(name, LENGTH(name) - 4), name)))
      WHEN provider IN ('GitLab', 'Git') THEN SPLIT(spec, '/')[OFFSET(0)]
      ELSE spec
    END AS repo,
    CASE
      WHEN spec = '' THEN ''
      WHEN provider IN ('GitHub', 'Gist') THEN IF(owner IS NULL, '', rest)
      WHEN provider IN ('GitLab', 'Git') THEN
        IF(STRPOS(spec, '/') > 0, SUBSTR(spec, STRPOS(spec, '/') + 1), '')
      ELSE ''
    END AS ref
  FROM parsed_fields
)
SELECT file, ordinal,
  COALESCE(valid AND unwrapped AND plain AND spec_public AND origin_public
    AND minute IS NOT NULL AND minute <= TIMESTAMP_ADD(@ingested_at, INTERVAL 1 DAY), FALSE)
    AS decided,
  minute AS timestamp,
  version AS schema_version,
  provider,
  spec,
  repo,
  ref,
  {native.by_version("ref", "ref_text", "''")} AS resolved_ref,
  status,
  {native.by_version("origin", "origin_text", "@default_origin")} AS origin,
  {native.by_version("build_token", "build_token_value", "NULL")} AS build_token,
  {native.by_version("request_origin", "request_origin_text", "NULL")} AS request_origin,
  @ingested_at AS ingested_at
FROM split"""


def key_sql() -> str:
    """The content key of a launch row, as ``backfill.content_key`` computes it in Python."""
    parts = [
        "FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M', timestamp, 'UTC')",
        "CAST(schema_version AS STRING)",
        "provider",
        "spec",
        "resolved_ref",
        "status",
        "origin",
        "CASE build_token WHEN TRUE THEN 'true' WHEN FALSE THEN 'false' END",
        "request_origin",
    ]
    joined = ", ".join(f"COALESCE({part}, CHR(30))" for part in parts)
    return f"SUBSTR(TO_HEX(MD5(ARRAY_TO_STRING([{joined}], CHR(31)))), 1, 20)"


def summary_sql(lines: str) -> str:
    """Each undecided line (``file``, ``ordinal``), and each day of the decided ones with its
    launches (``day``, ``launches``): one scan of the staging table."""
    return f"""WITH judged AS (
{decide_sql(lines)}
)
SELECT file, ordinal, CAST(NULL AS DATE) AS day, CAST(NULL AS INT64) AS launches
FROM judged WHERE NOT decided
UNION ALL
SELECT NULL, NULL, DATE(timestamp), COUNT(*) FROM judged WHERE decided GROUP BY 3"""


def source_sql(lines: str, python: str | None, skipping: bool) -> str:
    """Every decided row of ``lines`` and every row of ``python`` with its id: its day, its
    content key, and its occurrence among the rows of its file with that key (the rows of
    one file and key are the same launch, so their order does not matter). Two copies of a
    file in one batch give the same ids: one of each is kept. ``@skip``: days left out."""
    columns = ", ".join(ROW_COLUMNS)
    rows = f"SELECT file, {columns} FROM ({decide_sql(lines)}) WHERE decided"
    if python:
        rows += f"\n    UNION ALL SELECT file, {columns} FROM {python}"
    where = "WHERE DATE(timestamp) NOT IN UNNEST(@skip)" if skipping else ""
    return f"""SELECT * FROM (
  SELECT CONCAT('{PREFIX}', FORMAT_TIMESTAMP('%Y-%m-%d', timestamp, 'UTC'), ':', key, ':',
      CAST(ROW_NUMBER() OVER (PARTITION BY file, key) - 1 AS STRING)) AS event_id,
    {columns}
  FROM (
    SELECT *, {key_sql()} AS key FROM (
      {rows}
    ) {where}
  )
)
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id) = 1"""


# The batch's days, for BigQuery to read only their partitions of ``launches``.
WITHIN = (
    "target.timestamp >= TIMESTAMP(@first) "
    "AND target.timestamp < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))"
)


@dataclass
class Batch:
    """One batch's lines, staged in a JSONL file: how many, and those Python must decide
    without asking (not UTF-8), by file."""

    path: Path
    lines: int
    unsent: dict[Path, list[int]]


def write_batch(files: Sequence[Path], folder: str, progress: Callable[[int], None]) -> Batch:
    """``files``' non-blank lines, each as it is with its file and number, into a JSONL file
    in ``folder`` for the load job: all the Python path does to a line SQL decides."""
    handle, name = tempfile.mkstemp(suffix=".jsonl", dir=folder)
    count = 0
    unsent: dict[Path, list[int]] = {}
    with os.fdopen(handle, "wb") as out:
        for path in files:
            with reading(path), open_archive(path) as f:
                for number, line in numbered(f):
                    count += 1
                    try:
                        text = line.decode("utf-8").rstrip("\r\n")
                    except UnicodeDecodeError:
                        unsent.setdefault(path, []).append(number)
                        continue
                    out.write(orjson.dumps({"file": str(path), "ordinal": number, "line": text}))
                    out.write(b"\n")
            progress(path.stat().st_size)
    return Batch(Path(name), count, unsent)


def load_staged(
    files: Sequence[Path],
    warehouse: BigQueryWarehouse,
    loader: Loader,
    ingested_at: datetime,
    default_origin: str,
    progress: Callable[[int], None],
) -> None:
    with tempfile.TemporaryDirectory(prefix="binderops-backfill-") as folder:
        for group in batches(files):
            batch = write_batch(group, folder, progress)
            try:
                _merge(batch, warehouse, loader, ingested_at, default_origin)
            finally:
                batch.path.unlink()
    loader.flush()  # the error rows


def _merge(
    batch: Batch,
    warehouse: BigQueryWarehouse,
    loader: Loader,
    ingested_at: datetime,
    default_origin: str,
) -> None:
    result = loader.result
    result.lines += batch.lines
    values: dict[str, Any] = {"ingested_at": ingested_at, "default_origin": default_origin}
    with warehouse.staged(LINES, batch.path) as lines:
        found = warehouse.query(summary_sql(f"`{lines}`"), values)
        undecided = {path: list(numbers) for path, numbers in batch.unsent.items()}
        per_day: dict[date, int] = {}
        for r in found:
            if r["day"] is not None:
                per_day[r["day"]] = per_day.get(r["day"], 0) + int(r["launches"])
            else:
                undecided.setdefault(Path(r["file"]), []).append(int(r["ordinal"]))
        rows: list[tuple] = []
        for path, ordinals in undecided.items():
            result.undecided += len(ordinals)
            decided = python_rows(path, sorted(ordinals), ingested_at, default_origin)
            assert decided is not None  # numbered here as python_rows numbers them
            for number, error in decided.errors:
                loader.add(error, path, number)
            for _, row in decided.rows:
                rows.append((str(path), *row[1:]))
                day = row.timestamp.date()
                per_day[day] = per_day.get(day, 0) + 1
        if not per_day:
            return
        live, skip = loader.check_days(per_day)
        days = sorted(per_day)
        values |= {"first": days[0], "last": days[-1]}
        if skip:
            values["skip"] = skip
        # Without rows from Python, no second staging table.
        with warehouse.staged(PYTHON, rows) if rows else nullcontext() as python:
            source = source_sql(f"`{lines}`", python and f"`{python}`", bool(skip))
            first = ""
            if live and loader.replace_live:
                first, params = loader.delete_live(sorted(live))
                values |= params
            result.loaded += warehouse.merge("launches", source, values, first=first, within=WITHIN)
