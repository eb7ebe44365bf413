-- Launches in the 24 hours before @now and in the 24 hours before those (distinct ids, from
-- the raw table, partition-pruned on timestamp); and in the 30 UTC days to @last and the 30
-- days before those (from launches_daily): the headline's launch figures and their change.
WITH hours AS (
  SELECT
    COUNT(DISTINCT IF(timestamp >= TIMESTAMP_SUB(@now, INTERVAL 24 HOUR), event_id, NULL)) AS day,
    COUNT(DISTINCT IF(timestamp < TIMESTAMP_SUB(@now, INTERVAL 24 HOUR), event_id, NULL))
      AS previous_day
  FROM {{ raw }}.launches
  WHERE timestamp >= TIMESTAMP_SUB(@now, INTERVAL 48 HOUR) AND timestamp < @now
),
days AS (
  SELECT
    SUM(IF(day > DATE_SUB(@last, INTERVAL 30 DAY), launches, 0)) AS month,
    SUM(IF(day <= DATE_SUB(@last, INTERVAL 30 DAY), launches, 0)) AS previous_month
  FROM launches_daily
  WHERE day > DATE_SUB(@last, INTERVAL 60 DAY) AND day <= @last
)
SELECT day, previous_day, month, previous_month
FROM hours CROSS JOIN days
