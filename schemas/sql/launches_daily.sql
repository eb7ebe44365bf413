-- Launches per UTC day, origin, provider, repo and status. Counts distinct event_ids, so
-- it is deduplicated like the public launches view without depending on it.
SELECT
  DATE(timestamp) AS day,
  origin,
  provider,
  repo,
  status,
  COUNT(DISTINCT event_id) AS launches
FROM {{ raw }}.launches
GROUP BY day, origin, provider, repo, status
