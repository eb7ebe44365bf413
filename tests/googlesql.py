"""BigQuery's SQL semantics judged by Google's own analyzer: ZetaSQL (PyPI ``zetasql``,
compiled to WebAssembly), with BigQuery's language features, over a catalog of tables as
BigQuery's REST API describes them (``schema.fields`` with RECORD and REPEATED columns) and
views (their SQL, whose output columns the analyzer works out), with query parameters typed
as the client sends them (``queryParameters``).

Loading the analyzer takes about 20 s, so one judge serves the whole test session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

# BigQuery's column and parameter types, by the name its REST API uses.
SIMPLE = {
    "STRING": "TYPE_STRING",
    "BYTES": "TYPE_BYTES",
    "INTEGER": "TYPE_INT64",
    "INT64": "TYPE_INT64",
    "FLOAT": "TYPE_DOUBLE",
    "FLOAT64": "TYPE_DOUBLE",
    "NUMERIC": "TYPE_NUMERIC",
    "BIGNUMERIC": "TYPE_BIGNUMERIC",
    "BOOLEAN": "TYPE_BOOL",
    "BOOL": "TYPE_BOOL",
    "TIMESTAMP": "TYPE_TIMESTAMP",
    "DATE": "TYPE_DATE",
    "TIME": "TYPE_TIME",
    "DATETIME": "TYPE_DATETIME",
    "JSON": "TYPE_JSON",
    "GEOGRAPHY": "TYPE_GEOGRAPHY",
}


def column_type(column: Mapping[str, Any]) -> Any:
    """The ZetaSQL type of one ``schema.fields`` entry (RECORD: a STRUCT; REPEATED: an ARRAY)."""
    from zetasql.api import TypeFactory
    from zetasql.types import TypeKind

    kind = column["type"].upper()
    if kind in ("RECORD", "STRUCT"):
        base = TypeFactory.create_struct_type(
            [(f["name"], column_type(f)) for f in column.get("fields", [])]
        )
    else:
        base = TypeFactory.create_simple_type(getattr(TypeKind, SIMPLE[kind]))
    if column.get("mode", "NULLABLE").upper() == "REPEATED":
        return TypeFactory.create_array_type(base)
    return base


def parameter_type(described: Mapping[str, Any]) -> Any:
    """The ZetaSQL type of a REST ``parameterType`` (ARRAY and STRUCT nest)."""
    from zetasql.api import TypeFactory
    from zetasql.types import TypeKind

    kind = described["type"].upper()
    if kind == "ARRAY":
        return TypeFactory.create_array_type(parameter_type(described["arrayType"]))
    if kind == "STRUCT":
        return TypeFactory.create_struct_type(
            [(f["name"], parameter_type(f["type"])) for f in described["structTypes"]]
        )
    return TypeFactory.create_simple_type(getattr(TypeKind, SIMPLE[kind]))


class GoogleSQL:
    """One analyzer, BigQuery's language, for the session."""

    def __init__(self) -> None:
        from zetasql.types import LanguageOptions
        from zetasql.types.proto_model import ProductMode

        language = LanguageOptions.maximum_features()
        # BigQuery is ZetaSQL's external product: no internal-only types (INT32, UINT64…).
        language.product_mode = ProductMode.PRODUCT_EXTERNAL
        self.language = language

    def _catalog(self, tables: Mapping[str, Sequence[Any]], default: str) -> Any:
        """Nested catalogs ``project`` → ``dataset`` → tables, each dataset also at the top
        (BigQuery reads ``dataset.table`` in the job's project), and the default dataset's
        tables at the top too (unqualified names). ``tables`` maps names to columns: REST
        fields, or ``(name, type)`` pairs already typed."""
        from zetasql.api import CatalogBuilder, TableBuilder
        from zetasql.types import ZetaSQLBuiltinFunctionOptions

        def table(name: str, columns: Sequence[Any]) -> Any:
            built = TableBuilder(name)
            for column in columns:
                if isinstance(column, tuple):
                    built.add_column(*column)
                else:
                    built.add_column(column["name"], column_type(column))
            return built.build()

        builtins = ZetaSQLBuiltinFunctionOptions(language_options=self.language)
        root = CatalogBuilder("bigquery").with_builtin_functions(builtins).build()
        projects: dict[str, Any] = {}
        datasets: dict[tuple[str, str], Any] = {}
        for full_name, columns in tables.items():
            project, dataset, name = full_name.split(".")
            if project not in projects:
                projects[project] = CatalogBuilder(project).build()
                root.catalog.append(projects[project])
            if (project, dataset) not in datasets:
                datasets[project, dataset] = CatalogBuilder(dataset).build()
                projects[project].catalog.append(datasets[project, dataset])
                root.catalog.append(datasets[project, dataset])
            datasets[project, dataset].table.append(table(name, columns))
            # `project.dataset.table` in one pair of backticks is one identifier to ZetaSQL
            # and a path to BigQuery: the table answers to it whole as well.
            root.table.append(table(full_name, columns))
            if f"{project}.{dataset}" == default:
                root.table.append(table(name, columns))
        return root

    def _options(self, parameters: Iterable[Mapping[str, Any]]) -> Any:
        from zetasql.types import AnalyzerOptions

        return AnalyzerOptions(
            language_options=self.language,
            default_timezone="UTC",  # BigQuery's; ZetaSQL's own default is Los Angeles
            query_parameters=[
                AnalyzerOptions.QueryParameter(
                    name=p["name"], type=parameter_type(p["parameterType"])
                )
                for p in parameters
            ],
        )

    def output(
        self, sql: str, tables: Mapping[str, Sequence[Any]], default: str = ""
    ) -> list[tuple[str, Any]]:
        """The columns a query returns, typed (what a view built on it holds)."""
        from zetasql.api import Analyzer

        statement = Analyzer(self._options(()), self._catalog(tables, default)).analyze_statement(
            sql
        )
        return [(c.name, c.column.type) for c in statement.output_column_list]

    def problems(
        self,
        sql: str,
        tables: Mapping[str, Sequence[Any]],
        parameters: Iterable[Mapping[str, Any]] = (),
        default: str = "",
    ) -> list[str]:
        """What the analyzer refuses in ``sql`` (a statement or a script of several), one
        message per refused statement; empty when BigQuery's rules hold."""
        from zetasql.api import Analyzer
        from zetasql.types import ParseResumeLocation

        analyzer = Analyzer(self._options(parameters), self._catalog(tables, default))
        location = ParseResumeLocation(input=sql, byte_position=0)
        encoded = sql.encode()
        found: list[str] = []
        while encoded[location.byte_position :].strip(b" \n;"):
            try:
                if analyzer.analyze_next_statement(location) is None:
                    break
            except Exception as e:  # the analyzer's own error: its message is the finding
                found.append(str(e))
                break
        return found


def cell(value: Any) -> Any:
    """A Python value as a ZetaSQL Value, for table content and parameters."""
    from datetime import date, datetime

    from google.protobuf.timestamp_pb2 import Timestamp
    from zetasql.types import Value

    if value is None:
        return Value()
    if isinstance(value, list):
        return Value(array_value=Value.Array(element=[cell(v) for v in value]))
    if isinstance(value, bool):
        return Value(bool_value=value)
    if isinstance(value, int):
        return Value(int64_value=value)
    if isinstance(value, float):
        return Value(double_value=value)
    if isinstance(value, datetime):
        stamp = Timestamp()
        stamp.FromDatetime(value)
        return Value(timestamp_value=stamp)
    if isinstance(value, date):
        return Value(date_value=(value - date(1970, 1, 1)).days)
    return Value(string_value=value)


def python(value: Any) -> Any:
    """A ZetaSQL Value as Python, as DuckDB returns it (NULL as None)."""
    from datetime import UTC, date, datetime, timedelta

    if value.int64_value is not None:
        return value.int64_value
    if value.string_value is not None:
        return value.string_value
    if value.bool_value is not None:
        return value.bool_value
    if value.double_value is not None:
        return value.double_value
    if value.date_value is not None:
        return date(1970, 1, 1) + timedelta(days=value.date_value)
    stamp = value.timestamp_value
    if stamp is not None:
        if isinstance(stamp, datetime):
            return stamp.astimezone(UTC)
        proto = stamp.to_proto() if hasattr(stamp, "to_proto") else stamp
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            seconds=proto.seconds, microseconds=proto.nanos // 1000
        )
    return None


def rest_type(declared: str) -> dict[str, Any]:
    """A type as ``schemas/sql/parameters.json`` writes it (``ARRAY<DATE>``), as REST does."""
    if declared.startswith("ARRAY<"):
        return {"type": "ARRAY", "arrayType": rest_type(declared[6:-1])}
    return {"type": declared}


def evaluate(
    googlesql: GoogleSQL,
    sql: str,
    tables: Mapping[str, tuple[Sequence[Mapping], Sequence[Sequence]]],
    params: Mapping[str, tuple[str, Any]] | None = None,
    named: bool = False,
) -> list[Any]:
    """What ZetaSQL's reference evaluator answers for ``sql`` over ``tables`` (each name's
    REST fields and rows; unqualified: the evaluator takes content for top-level tables
    only), with ``params`` (each name's BigQuery type and value): tuples, or with
    ``named`` dicts by column name."""
    from datetime import UTC, datetime, timedelta

    from zetasql.api import Analyzer, CatalogBuilder, PreparedQuery, TableBuilder
    from zetasql.types import (
        Parameter,
        TableContent,
        TableData,
        TypeKind,
        ZetaSQLBuiltinFunctionOptions,
    )

    builtins = ZetaSQLBuiltinFunctionOptions(language_options=googlesql.language)
    catalog = CatalogBuilder("evaluated").with_builtin_functions(builtins).build()
    contents = {}
    for table, (fields, rows) in tables.items():
        built = TableBuilder(table)
        for field in fields:
            built.add_column(field["name"], column_type(field))
        catalog.table.append(built.build())
        contents[table] = TableContent(
            table_data=TableData(row=[TableData.Row(cell=[cell(v) for v in row]) for row in rows])
        )
    typed = [
        {"name": name, "parameterType": rest_type(kind)}
        for name, (kind, _) in (params or {}).items()
    ]
    arguments = [
        Parameter(name=name, value=cell(value)) for name, (_, value) in (params or {}).items()
    ]
    # The evaluator's TIMESTAMP values reach Python empty (zetasql 0.1.5): they come out as
    # microseconds since the epoch, and are made datetimes again below.
    columns = Analyzer(googlesql._options(typed), catalog).analyze_statement(sql).output_column_list
    stamps = [c.name for c in columns if c.column.type.type_kind == TypeKind.TYPE_TIMESTAMP]
    if stamps:
        micros = ", ".join(f"UNIX_MICROS({n}) AS {n}" for n in stamps)
        sql = f"SELECT * REPLACE ({micros}) FROM ({sql})"
    query = (
        PreparedQuery.builder()
        .set_sql(sql)
        .set_analyzer_options(googlesql._options(typed))
        .set_catalog(catalog)
        .set_table_content(contents)
        .prepare()
    )
    with query:
        answer = query.execute(arguments)
    if answer.content is None or answer.content.table_data is None:  # no rows
        return []
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    found: list[Any] = []
    for row in answer.content.table_data.row:
        values = [python(v) for v in row.cell]
        for n, column in enumerate(columns):
            if column.name in stamps and values[n] is not None:
                values[n] = epoch + timedelta(microseconds=values[n])
        found.append(dict(zip((c.name for c in columns), values)) if named else tuple(values))
    return found


@cache
def judge() -> GoogleSQL:
    """The session's analyzer (loading it takes about 20 s)."""
    return GoogleSQL()
