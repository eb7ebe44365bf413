-- Public, deduplicated launches. BigQuery's insertId dedupe is best-effort, so readers
-- see one row per event_id: the first one ingested.
SELECT
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
  ingested_at
FROM ${raw}.launches
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY ingested_at) = 1
