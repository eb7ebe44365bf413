-- Launches between @first and @last (dates), each with its line of mybinder.org's daily
-- archive, newline included: the event's own fields for its schema version, in the
-- archive's order, the timestamp to the minute. A field the event did not carry is left out, never written as
-- null, so a line read back by `binderops backfill` validates and gives the same row.
-- The typed columns beside it are the monthly Parquet file's. Files are written in the
-- order (timestamp, event_id): a total order, so a re-run writes the same bytes.
-- The launches are put in that order before their lines are built: DuckDB keeps a
-- subquery's order through the SELECT above it, so a local run never sorts the lines
-- themselves (they are most of a day's bytes). BigQuery does not keep it: its queries
-- order the lines again (STRING_AGG's ORDER BY, the month export's ORDER BY).
-- Duplicates of an event_id (BigQuery's streaming dedupe is best effort) are dropped
-- after the day filter, so the scan stays within the days' partitions.
SELECT
  DATE(timestamp) AS day,
  event_id,
  timestamp,
  schema_version,
  provider,
  spec,
  repo,
  ref,
  resolved_ref,
  status,
  origin,
  build_token,
  request_origin,
  CONCAT(
    '{"timestamp": "', FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:00+00:00', timestamp, 'UTC'), '"',
    ', "schema": "binderhub.jupyter.org/launch", "version": ', CAST(schema_version AS STRING),
    IF(provider IS NULL, '', CONCAT(', "provider": ', TO_JSON_STRING(provider))),
    IF(spec IS NULL, '', CONCAT(', "spec": ', TO_JSON_STRING(spec))),
    IF(schema_version < 4 OR resolved_ref IS NULL, '', CONCAT(', "ref": ', TO_JSON_STRING(resolved_ref))),
    IF(status IS NULL, '', CONCAT(', "status": ', TO_JSON_STRING(status))),
    IF(schema_version < 5 OR build_token IS NULL, '', CONCAT(', "build_token": ', TO_JSON_STRING(build_token))),
    IF(schema_version < 3 OR origin IS NULL, '', CONCAT(', "origin": ', TO_JSON_STRING(origin))),
    IF(schema_version < 6 OR request_origin IS NULL, '', CONCAT(', "request_origin": ', TO_JSON_STRING(request_origin))),
    '}\n'
  ) AS line
FROM (
  SELECT *
  FROM {{ raw }}.launches
  WHERE timestamp >= TIMESTAMP(@first) AND timestamp < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))
  QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY ingested_at) = 1
  ORDER BY timestamp, event_id
)
