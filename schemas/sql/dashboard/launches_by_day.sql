-- Launches per UTC day and federation member (origin) between @first and @last.
SELECT day, COALESCE(origin, 'unknown') AS origin, SUM(launches) AS launches
FROM launches_daily
WHERE day BETWEEN @first AND @last
GROUP BY day, origin
ORDER BY day, origin
