-- Launch outcomes per federation member between @first and @last (UTC days), from the
-- members' own /metrics (member_launch_outcomes; retries left out).
SELECT
  member,
  SUM(success) AS success,
  SUM(failure) AS failure
FROM {{ public }}.member_launch_outcomes
WHERE minute >= TIMESTAMP(@first) AND minute < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))
GROUP BY member
ORDER BY member
