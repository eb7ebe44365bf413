-- Incidents open now.
SELECT incident_id, policy, started, issue_url
FROM incidents
WHERE ended IS NULL AND started IS NOT NULL
ORDER BY started DESC
