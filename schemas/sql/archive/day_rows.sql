-- Rows per UTC day between @first and @last (dates), duplicates included: the cheap first
-- look at what changed. A day whose row count equals its published count is unchanged
-- (rows are only ever added, so its distinct launches cannot have changed either).
SELECT
  DATE(timestamp) AS day,
  COUNT(*) AS events
FROM ${raw}.launches
WHERE timestamp >= TIMESTAMP(@first) AND timestamp < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))
GROUP BY day
