SELECT environment, sha, trigger_kind, status, duration_seconds, build_url
FROM deployments
WHERE sha = @sha
ORDER BY started
