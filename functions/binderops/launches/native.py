"""Backfill's fast path: DuckDB reads archive files itself and decides each line in SQL.

The SQL is generated from the same launch JSON Schemas the Python path validates with, and
mirrors ``events.to_row``, ``privacy`` and ``specs.split_spec``. It decides only what it can
decide exactly as the Python path would; any other line is left *undecided* and goes through
the Python path, so rows, error rows and ids are the same either way (a property test holds
it). Undecided: JSON ``null`` (DuckDB reads it as absent), a field missing, a value of another
type, an unknown version, a Cloud Logging wrapper, a timestamp not in the plain RFC 3339 form,
a spec that privacy rules may change or whose percent-encoding DuckDB would decode otherwise,
a ``request_origin`` that is not already a plain lower-case origin or a fetch-site word.

A file DuckDB cannot read as one JSON object per line (a line of bad JSON, a duplicate key,
bad UTF-8) goes wholly through the Python path.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ..warehouse import schemas
from .privacy import FETCH_SITES

# The columns read from each line: every property a schema version defines, and the two
# fields of a Cloud Logging LogEntry that would wrap an event.
WRAPPERS = ("jsonPayload", "textPayload")
# Timestamps the fast path parses: the plain RFC 3339 form the archive writes, in years
# where no offset can move them outside 1..9999. Anything else is left to Python.
TIMESTAMP = (
    r"(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
# A spec DuckDB's url_decode reads as Python's unquote does: every % starts an escape.
WELL_ENCODED = r"(?s)([^%]|%[0-9A-Fa-f]{2})*"
# An origin public_origin keeps exactly as sent (privacy._ORIGIN, whole, in lower case).
PLAIN_ORIGIN = r"https?://[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9-]{1,63})*"


def literal(value: str) -> str:
    """A SQL string literal (DuckDB's and GoogleSQL's alike)."""
    return "'" + value.replace("'", "''") + "'"


def _string(name: str) -> str:
    """The value of a JSON string, from its text as DuckDB's reader wrote it; NULL for any
    other JSON type. Without a backslash the text between the quotes is the value."""
    column = f'"{name}"'
    return (
        f"CASE WHEN starts_with({column}, '\"') THEN CASE WHEN contains({column}, '\\')"
        f" THEN {column} ->> '$' ELSE substr({column}, 2, length({column}) - 2) END END"
    )


def _check(name: str, prop: dict[str, Any], boolean: str) -> str:
    """The SQL that holds exactly when the schema's ``prop`` accepts the present, non-null
    value of ``name`` (``s_NAME``: its string value, NULL when it is not a string;
    ``boolean``: the check that it is a JSON boolean, ``{name}`` standing for its name)."""
    known = {"type", "maxLength", "enum", "const", "description", "format"}
    if set(prop) - known:
        raise ValueError(f"the fast path cannot check {sorted(set(prop) - known)} of {name!r}")
    text = f"s_{name}"
    if "const" in prop or "enum" in prop:
        values = [prop["const"]] if "const" in prop else prop["enum"]
        if not all(isinstance(v, str) for v in values):
            raise ValueError(f"the fast path checks string enums only, not {name!r}'s")
        return f"{text} IN ({', '.join(literal(v) for v in values)})"
    if prop.get("type") == "string":
        check = f"{text} IS NOT NULL"
        if "maxLength" in prop:  # both count code points
            check += f" AND length({text}) <= {int(prop['maxLength'])}"
        return check
    if prop.get("type") == "boolean":
        return boolean.format(name=name)
    raise ValueError(f"the fast path cannot check {name!r}: {prop}")


@cache
def columns() -> tuple[str, ...]:
    """Every field a line is read for, in a fixed order."""
    names: dict[str, None] = {}
    for schema in schemas.launch_event_schemas().values():
        names.update(dict.fromkeys(schema["properties"]))
    return (*names, *WRAPPERS)


def read_sql() -> str:
    """The statement that reads ``$files`` into ``_backfill_json``: one row per non-blank line,
    in file order, each field as JSON (``rowid`` then numbers the lines)."""
    typed = ", ".join(f"{literal(name)}: 'JSON'" for name in columns())
    return (
        "CREATE OR REPLACE TEMP TABLE _backfill_json AS\n"
        f"SELECT filename AS file, * EXCLUDE (filename) FROM read_json($files,\n"
        "  format = 'newline_delimited', records = true, filename = true,\n"
        "  maximum_object_size = 16777216,\n"
        f"  columns = {{{typed}}})"
    )


# DuckDB's check that a field read as JSON text is a boolean.
DUCKDB_BOOLEAN = "j.\"{name}\" IN ('true', 'false')"


def valid_sql(version: str = "j.v", boolean: str = DUCKDB_BOOLEAN) -> str:
    """Holds when the line's ``version`` is known and every property of that version's
    schema is present, not null, and valid: the schema validation of ``events.to_row``, on
    lines that carry all their fields (DuckDB reads JSON null as absent, which the Python
    path tells apart: a line with one missing is left to it). The BigQuery path uses it
    too, with its own ``boolean`` check."""
    cases = []
    for number, schema in sorted(schemas.launch_event_schemas().items()):
        checks = [
            _check(name, prop, boolean)
            for name, prop in schema["properties"].items()
            if name != "version"
        ]
        cases.append(f"    WHEN {number} THEN " + "\n      AND ".join(checks))
    return f"CASE {version}\n" + "\n".join(cases) + "\n    ELSE FALSE END"


def by_version(field: str, value: str, otherwise: str) -> str:
    """``value`` for the versions whose schema defines ``field``, else ``otherwise``."""
    versions = [
        str(v)
        for v, schema in sorted(schemas.launch_event_schemas().items())
        if field in schema["properties"]
    ]
    return f"CASE WHEN version IN ({', '.join(versions)}) THEN {value} ELSE {otherwise} END"


def decide_sql() -> str:
    """The statement that turns ``_backfill_json`` into ``_backfill_rows``: each line's launch
    row (without its id) where it is decided, else ``decided = false``. Parameters:
    ``$ingested_at`` and ``$default_origin``."""
    suspect = "[@?#;]"
    fetch_sites = ", ".join(literal(s) for s in sorted(FETCH_SITES))
    wrappers = " AND ".join(f'j."{w}" IS NULL' for w in WRAPPERS)
    versions = sorted(schemas.launch_event_schemas())
    version = " ".join(f"WHEN '{v}' THEN {v}" for v in versions)
    strings = ",\n    ".join(
        f"{_string(name)} AS s_{name}" for name in columns() if name not in WRAPPERS
    )
    return f"""CREATE OR REPLACE TEMP TABLE _backfill_rows AS
WITH lines AS (
  -- The reader keeps the lines in order: rowid counts them (``undecided_sql`` makes that
  -- a line number in its file, for the lines the Python path reads).
  SELECT j.*, j.rowid AS ordinal,
    CASE j."version" {version} END AS v,
    {strings}
  FROM _backfill_json AS j
), fields AS (
  SELECT j.file, j.ordinal, j.v AS version,
    {wrappers} AS unwrapped,
    j.s_timestamp AS ts_text,
    j.s_provider AS provider,
    j.s_spec AS spec,
    j.s_status AS status,
    j.s_origin AS origin_text,
    j.s_ref AS ref_text,
    j."build_token" = 'true' AS build_token_value,
    j.s_request_origin AS request_origin_text,
    {valid_sql()} AS valid
  FROM lines AS j
), parsed AS (
  SELECT *,
    CASE WHEN regexp_full_match(ts_text, {literal(TIMESTAMP)})
      THEN date_trunc('minute', TRY_CAST(ts_text AS TIMESTAMPTZ)) END AS minute,
    -- A spec privacy rules leave alone: no @ ? # ; in it, nor once decoded (deeper
    -- encodings are Python's), and encoded the way url_decode reads as unquote does.
    CASE
      WHEN spec = '' THEN true
      WHEN regexp_matches(spec, {literal(suspect)}) THEN false
      WHEN NOT contains(spec, '%') THEN true
      WHEN NOT regexp_full_match(spec, {literal(WELL_ENCODED)}) THEN false
      ELSE coalesce(
        NOT regexp_matches(try(url_decode(spec)), {literal(suspect + "|%[0-9A-Fa-f]{2}")}),
        false)
    END AS spec_public,
    CASE
      WHEN request_origin_text IS NULL OR request_origin_text = ''
        OR request_origin_text IN ({fetch_sites}) THEN true
      WHEN regexp_full_match(request_origin_text, {literal(PLAIN_ORIGIN)}) THEN
        NOT regexp_full_match(regexp_replace(request_origin_text, '^https?://', ''), '[0-9.]+')
        AND NOT regexp_matches(request_origin_text, '[0-9]+([.-][0-9]+){{3}}')
      ELSE false
    END AS origin_public,
    CASE WHEN provider IN ('GitHub', 'Gist')
      THEN regexp_extract(spec, '(?s)^([^/]+)/([^/]+)(?:/(.*))?$', ['owner', 'name', 'rest'])
    END AS path
  FROM fields
), split AS (
  SELECT *,
    CASE
      WHEN spec = '' THEN ['', '']
      WHEN provider IN ('GitHub', 'Gist') THEN
        CASE WHEN path.owner = '' THEN [spec, '']
          ELSE [path.owner || '/' || CASE
            WHEN provider = 'GitHub' AND ends_with(path.name, '.git')
            THEN left(path.name, length(path.name) - 4) ELSE path.name END, path.rest] END
      WHEN provider IN ('GitLab', 'Git') THEN
        CASE WHEN NOT contains(spec, '%') THEN [split_part(spec, '/', 1),
            CASE WHEN contains(spec, '/') THEN substr(spec, strpos(spec, '/') + 1) ELSE '' END]
          WHEN NOT regexp_full_match(spec, {literal(WELL_ENCODED)}) THEN NULL
          WHEN contains(spec, '/') THEN [
            try(url_decode(split_part(spec, '/', 1))),
            try(url_decode(substr(spec, strpos(spec, '/') + 1)))]
          ELSE [try(url_decode(spec)), ''] END
      WHEN provider = 'CKAN' THEN
        CASE WHEN NOT contains(spec, '%') THEN [spec, '']
          WHEN regexp_full_match(spec, {literal(WELL_ENCODED)})
          THEN [try(url_decode(spec)), ''] END
      ELSE [spec, '']
    END AS parts
  FROM parsed
)
SELECT file, ordinal,
  coalesce(valid AND unwrapped AND spec_public AND origin_public
    AND minute IS NOT NULL AND minute - $ingested_at <= INTERVAL 1 DAY
    AND parts[1] IS NOT NULL AND parts[2] IS NOT NULL, false) AS decided,
  minute AS timestamp,
  version AS schema_version,
  provider,
  spec,
  parts[1] AS repo,
  parts[2] AS ref,
  {by_version("ref", "ref_text", "''")} AS resolved_ref,
  status,
  {by_version("origin", "origin_text", "$default_origin")} AS origin,
  {by_version("build_token", "build_token_value", "NULL")} AS build_token,
  {by_version("request_origin", "request_origin_text", "NULL")} AS request_origin,
  $ingested_at AS ingested_at
FROM split"""


def key_sql(alias: str = "") -> str:
    """The content key of a launch row, as ``backfill.content_key`` computes it in Python."""
    p = f"{alias}." if alias else ""
    parts = [
        f"strftime({p}timestamp, '%Y-%m-%dT%H:%M')",
        f"CAST({p}schema_version AS VARCHAR)",
        f"{p}provider",
        f"{p}spec",
        f"{p}resolved_ref",
        f"{p}status",
        f"{p}origin",
        f"CASE {p}build_token WHEN true THEN 'true' WHEN false THEN 'false' END",
        f"{p}request_origin",
    ]
    joined = ", ".join(f"coalesce({part}, chr(30))" for part in parts)
    return f"md5(concat_ws(chr(31), {joined}))[:20]"


def undecided_sql() -> str:
    """Each file's undecided lines, by their number among its non-blank lines (from 1)."""
    return """WITH starts AS (
  SELECT file, min(rowid) AS first FROM _backfill_json GROUP BY file
)
SELECT file, list(ordinal - first + 1 ORDER BY ordinal)
FROM _backfill_rows JOIN starts USING (file)
WHERE NOT decided
GROUP BY file
ORDER BY min(ordinal)"""
