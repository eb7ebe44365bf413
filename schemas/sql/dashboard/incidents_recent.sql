-- Incidents that started since @first, newest first, with their time to resolve.
SELECT incident_id, policy, started, ended, duration_seconds, issue_url
FROM incidents
WHERE DATE(started) >= @first
ORDER BY started DESC
LIMIT 20
