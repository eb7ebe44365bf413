-- Launches per federation member (origin) and UTC day between @first and @last (dates):
-- what the freshness check compares the latest complete day with.
SELECT
  day,
  origin,
  SUM(launches) AS launches
FROM launches_daily
WHERE day BETWEEN @first AND @last
GROUP BY day, origin
