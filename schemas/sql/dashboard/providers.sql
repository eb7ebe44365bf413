-- Launches per repository provider between @first and @last, most first.
SELECT COALESCE(provider, 'unknown') AS provider, SUM(launches) AS launches
FROM launches_daily
WHERE day BETWEEN @first AND @last
GROUP BY provider
ORDER BY launches DESC, provider
