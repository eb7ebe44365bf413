-- Launches per UTC day, origin, provider, repo and status, from the deduplicated view.
SELECT
  DATE(timestamp) AS day,
  origin,
  provider,
  repo,
  status,
  COUNT(*) AS launches
FROM ${public}.launches
GROUP BY day, origin, provider, repo, status
