-- Public, deduplicated launches. BigQuery's insertId dedupe is best-effort, so readers
-- see one row per event_id: the first one ingested. ingested_at is cut to the minute like
-- timestamp: to the microsecond it would tell when each launch happened.
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
  TIMESTAMP_TRUNC(ingested_at, MINUTE) AS ingested_at
FROM {{ raw }}.launches
-- BigQuery accepts QUALIFY only beside a WHERE, GROUP BY or HAVING: WHERE TRUE.
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY ingested_at) = 1
