-- Launches per UTC day, federation member (origin) and provider between @first and @last:
-- one pass over the launches, from which the page draws the members, the provider share
-- and the launches behind cost per launch.
SELECT
  day,
  COALESCE(origin, 'unknown') AS origin,
  COALESCE(provider, 'unknown') AS provider,
  SUM(launches) AS launches
FROM launches_daily
WHERE day BETWEEN @first AND @last
GROUP BY day, origin, provider
ORDER BY day, origin, provider
