-- Launches not loaded from the archive (ingested live, or by an older backfill), per UTC
-- day between @first and @last: a backfill skips those days unless told to replace them.
-- Archive rows' ids start with "archive:" (binderops.launches.backfill).
SELECT
  DATE(timestamp) AS day,
  COUNT(DISTINCT event_id) AS launches
FROM {{ raw }}.launches
WHERE timestamp >= TIMESTAMP(@first) AND timestamp < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))
  AND NOT STARTS_WITH(event_id, 'archive:')
GROUP BY day
ORDER BY day
