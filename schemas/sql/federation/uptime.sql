-- Each federation member's uptime over the last 24 hours, 7, 30 and 90 days before @now
-- (the share of probed minutes it was judged up), from the public member_health view:
-- what the uptime badge draws.
SELECT
  member,
  AVG(IF(minute > TIMESTAMP_SUB(@now, INTERVAL 1 DAY), IF(up, 1.0, 0.0), NULL)) AS uptime_24h,
  AVG(IF(minute > TIMESTAMP_SUB(@now, INTERVAL 7 DAY), IF(up, 1.0, 0.0), NULL)) AS uptime_7d,
  AVG(IF(minute > TIMESTAMP_SUB(@now, INTERVAL 30 DAY), IF(up, 1.0, 0.0), NULL)) AS uptime_30d,
  AVG(IF(up, 1.0, 0.0)) AS uptime_90d
FROM {{ public }}.member_health
WHERE minute > TIMESTAMP_SUB(@now, INTERVAL 90 DAY) AND minute <= @now
GROUP BY member
