-- Launches (distinct event_id) per UTC day between @first and @last (dates): the count a
-- published day file has lines, asked only for the days whose row count moved. Days are
-- grouped as in day_rows.sql.
SELECT
  CAST(DATE_FROM_UNIX_DATE(unix_day) AS DATE) AS day,
  events
FROM (
  SELECT
    DIV(UNIX_MICROS(timestamp), 86400000000) AS unix_day,
    COUNT(DISTINCT event_id) AS events
  FROM {{ raw }}.launches
  WHERE timestamp >= TIMESTAMP(@first) AND timestamp < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))
  GROUP BY unix_day
)
