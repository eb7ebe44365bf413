-- Rows per UTC day between @first and @last (dates), duplicates included: the cheap first
-- look at what changed. A day whose row count equals its published count is unchanged
-- (rows are only ever added, so its distinct launches cannot have changed either).
-- Days are counted as whole days since 1970 (UTC), turned into dates after grouping: DuckDB
-- groups the integer without a calendar, where DATE(timestamp) costs it half a second per
-- ten million launches.
SELECT
  CAST(DATE_FROM_UNIX_DATE(unix_day) AS DATE) AS day,
  events
FROM (
  SELECT
    DIV(UNIX_MICROS(timestamp), 86400000000) AS unix_day,
    COUNT(*) AS events
  FROM {{ raw }}.launches
  WHERE timestamp >= TIMESTAMP(@first) AND timestamp < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))
  GROUP BY unix_day
)
