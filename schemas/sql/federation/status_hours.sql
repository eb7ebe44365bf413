-- Per federation member and hour of the 90 days before @now: probes, probes judged up, mean
-- response time and launch outcomes; and, in the hour of the member's latest probe, that
-- probe's state (the `latest_` columns; NULL in every other hour). One scan gives the
-- status page everything: the state now, uptime over any whole number of hours, the hours.
WITH probes AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY member ORDER BY minute DESC) = 1 AS latest
  FROM {{ raw }}.member_probes
  WHERE minute > TIMESTAMP_SUB(@now, INTERVAL 90 DAY) AND minute <= @now
)
SELECT
  member,
  TIMESTAMP_TRUNC(minute, HOUR) AS hour,
  COUNT(*) AS probes,
  COUNTIF(up) AS ups,
  AVG(response_ms) AS response_ms,
  SUM(launches_success) AS success,
  SUM(launches_failure) AS failure,
  MAX(IF(latest, minute, NULL)) AS latest_minute,
  LOGICAL_OR(IF(latest, up, NULL)) AS latest_up,
  MAX(IF(latest, since, NULL)) AS latest_since,
  MAX(IF(latest, response_ms, NULL)) AS latest_response_ms,
  MAX(IF(latest, NULLIF(failed_checks, ''), NULL)) AS latest_failed_checks,
  MAX(IF(latest, NULLIF(error, ''), NULL)) AS latest_error,
  LOGICAL_OR(IF(latest, drift, NULL)) AS latest_drift
FROM probes
GROUP BY member, hour
ORDER BY member, hour
