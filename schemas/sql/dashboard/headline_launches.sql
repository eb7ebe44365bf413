-- Launches in the 24 hours before @now and in the 24 hours before those (distinct ids, from
-- the raw table, partition-pruned on timestamp): the headline's last-24-hours figure and its
-- change. (Its 30-day figures come from the page's one read of launches_daily.)
SELECT
  COUNT(DISTINCT IF(timestamp >= TIMESTAMP_SUB(@now, INTERVAL 24 HOUR), event_id, NULL)) AS day,
  COUNT(DISTINCT IF(timestamp < TIMESTAMP_SUB(@now, INTERVAL 24 HOUR), event_id, NULL))
    AS previous_day
FROM {{ raw }}.launches
WHERE timestamp >= TIMESTAMP_SUB(@now, INTERVAL 48 HOUR) AND timestamp < @now
