-- Launches per UTC day between @first and @last (dates): what the published index is
-- compared with. Launches are only ever added, so a day whose count changed has new rows.
SELECT
  DATE(timestamp) AS day,
  COUNT(DISTINCT event_id) AS events
FROM ${raw}.launches
WHERE timestamp >= TIMESTAMP(@first) AND timestamp < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))
GROUP BY day
