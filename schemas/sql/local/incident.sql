SELECT incident_id, policy, started, ended, issue_url
FROM incidents
WHERE incident_id = @id
