SELECT incident_id, policy, started, ended, duration_seconds, issue_url
FROM incidents
WHERE incident_id = @id AND ended IS NOT NULL
