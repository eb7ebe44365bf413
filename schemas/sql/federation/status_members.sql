-- Each federation member's state now and its uptime over the last 24 hours, 7, 30 and 90
-- days before @now: the share of its probed minutes it was judged up. One scan of 90 days.
WITH probes AS (
  SELECT minute, member, up, since, response_ms, failed_checks, error, drift
  FROM {{ raw }}.member_probes
  WHERE minute > TIMESTAMP_SUB(@now, INTERVAL 90 DAY) AND minute <= @now
),
latest AS (
  SELECT member, minute AS probed, up, since, response_ms, failed_checks, error, drift
  FROM probes
  WHERE TRUE  -- GoogleSQL allows QUALIFY only beside WHERE, GROUP BY or HAVING
  QUALIFY ROW_NUMBER() OVER (PARTITION BY member ORDER BY minute DESC) = 1
),
uptime AS (
  SELECT
    member,
    AVG(IF(minute > TIMESTAMP_SUB(@now, INTERVAL 1 DAY), IF(up, 1.0, 0.0), NULL)) AS uptime_24h,
    AVG(IF(minute > TIMESTAMP_SUB(@now, INTERVAL 7 DAY), IF(up, 1.0, 0.0), NULL)) AS uptime_7d,
    AVG(IF(minute > TIMESTAMP_SUB(@now, INTERVAL 30 DAY), IF(up, 1.0, 0.0), NULL)) AS uptime_30d,
    AVG(IF(up, 1.0, 0.0)) AS uptime_90d
  FROM probes
  GROUP BY member
)
SELECT * FROM latest JOIN uptime USING (member)
ORDER BY member
