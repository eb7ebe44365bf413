-- One month of launches, typed, for the monthly Parquet file (launches-YYYY-MM.parquet):
-- every public column but the event_id and ingestion time, in a total order so a re-run
-- writes the same bytes.
SELECT
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
  request_origin
FROM ${raw}.launches
WHERE timestamp >= TIMESTAMP(@first) AND timestamp < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY ingested_at) = 1
ORDER BY timestamp, provider, spec, resolved_ref, status, origin, schema_version, build_token, request_origin
