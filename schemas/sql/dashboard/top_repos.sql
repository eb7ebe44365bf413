-- The ten most launched repositories between @first and @last.
SELECT provider, repo, SUM(launches) AS launches
FROM repo_launches_daily
WHERE day BETWEEN @first AND @last
GROUP BY provider, repo
ORDER BY launches DESC, provider, repo
LIMIT 10
