-- Public incident record: one row per Cloud Monitoring incident, its opening and closing
-- notifications folded together (either may arrive first, or alone).
SELECT
  incident_id,
  ANY_VALUE(policy) AS policy,
  ANY_VALUE(condition) AS condition,
  MIN(started) AS started,
  MAX(ended) AS ended,
  TIMESTAMP_DIFF(MAX(ended), MIN(started), SECOND) AS duration_seconds,
  MAX(issue_url) AS issue_url
FROM {{ raw }}.incident_notifications
GROUP BY incident_id
