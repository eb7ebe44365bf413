-- Launches per minute and federation member since @since (the last hour): partition-pruned
-- on timestamp, so the minute's query reads one or two days' partitions only.
SELECT TIMESTAMP_TRUNC(timestamp, MINUTE) AS minute, COALESCE(origin, 'unknown') AS origin, COUNT(DISTINCT event_id) AS launches
FROM {{ raw }}.launches
WHERE timestamp >= @since
GROUP BY minute, origin
ORDER BY minute, origin
