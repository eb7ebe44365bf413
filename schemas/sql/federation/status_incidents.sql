-- The federation's health incidents of the 90 days before @now, newest first, with their
-- duration and report link.
SELECT incident_id, policy, condition, started, ended, duration_seconds, issue_url
FROM {{ public }}.incidents
WHERE STARTS_WITH(incident_id, 'health-') AND started > TIMESTAMP_SUB(@now, INTERVAL 90 DAY)
ORDER BY started DESC
LIMIT 200
