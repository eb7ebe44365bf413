-- Every repository's launches over each badge period, per provider: usage_badge loads them
-- once an hour per instance (and when the UTC day turns), then answers each badge from
-- memory. Reads repo_launches_daily only, never the launches. It holds complete UTC days
-- only, so "the last 30 days" are the 30 days before @today. A repository with a row here
-- was launched from that provider; a period without launches sums to 0. One column per
-- period of badges.PERIODS, in its order.
SELECT
  provider,
  repo,
  SUM(IF(day >= DATE_SUB(@today, INTERVAL 7 DAY), launches, 0)) AS launches_7d,
  SUM(IF(day >= DATE_SUB(@today, INTERVAL 30 DAY), launches, 0)) AS launches_30d,
  SUM(IF(day >= DATE_SUB(@today, INTERVAL 365 DAY), launches, 0)) AS launches_1y,
  SUM(launches) AS launches_all
FROM repo_launches_daily
GROUP BY provider, repo
