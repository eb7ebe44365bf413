-- Public deploy record, one row per build (streaming inserts may rarely duplicate).
-- Deploy frequency, lead time, change-failure rate and time to restore come from here.
SELECT
  build_id,
  repo,
  sha,
  environment,
  trigger_kind,
  status,
  build_status,
  started,
  finished,
  duration_seconds,
  build_url
FROM {{ raw }}.deployments
-- BigQuery accepts QUALIFY only beside a WHERE, GROUP BY or HAVING: WHERE TRUE.
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY build_id ORDER BY recorded_at) = 1
