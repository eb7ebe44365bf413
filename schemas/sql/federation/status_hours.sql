-- Per federation member and hour of the 7 days before @now: the median-free mean response
-- time, the share of probes it was up, and its launch outcomes (from /metrics).
SELECT
  member,
  TIMESTAMP_TRUNC(minute, HOUR) AS hour,
  AVG(response_ms) AS response_ms,
  AVG(IF(up, 1.0, 0.0)) AS up,
  SUM(launches_success) AS success,
  SUM(launches_failure) AS failure
FROM {{ raw }}.member_probes
WHERE minute > TIMESTAMP_SUB(@now, INTERVAL 7 DAY) AND minute <= @now
GROUP BY member, hour
ORDER BY member, hour
