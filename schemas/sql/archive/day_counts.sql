-- Launches (distinct event_id) per UTC day between @first and @last (dates): the count a
-- published day file has lines, asked only for the days whose row count moved.
SELECT
  DATE(timestamp) AS day,
  COUNT(DISTINCT event_id) AS events
FROM ${raw}.launches
WHERE timestamp >= TIMESTAMP(@first) AND timestamp < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))
GROUP BY day
