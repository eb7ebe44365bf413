-- Per federation member and probe minute: launches that succeeded and that failed since its
-- previous probe, from BinderHub's launch-time histogram in /metrics (retries left out, as
-- mybinder.org's Grafana does; a counter reset counts from zero). Members without /metrics
-- have no rows.
SELECT
  minute,
  member,
  launches_success AS success,
  launches_failure AS failure
FROM {{ raw }}.member_probes
WHERE launches_success IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY probe_id ORDER BY probed_at) = 1
