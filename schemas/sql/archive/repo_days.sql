-- Launches per UTC day, provider and repository (in lower case, as badges ask) between
-- @first and @last (dates): the rows of repo_launches_daily for those days. Days are
-- grouped as in day_rows.sql.
SELECT
  CAST(DATE_FROM_UNIX_DATE(unix_day) AS DATE) AS day,
  provider,
  repo,
  launches
FROM (
  SELECT
    DIV(UNIX_MICROS(timestamp), 86400000000) AS unix_day,
    provider,
    LOWER(repo) AS repo,
    COUNT(DISTINCT event_id) AS launches
  FROM {{ raw }}.launches
  WHERE timestamp >= TIMESTAMP(@first) AND timestamp < TIMESTAMP(DATE_ADD(@last, INTERVAL 1 DAY))
  GROUP BY 1, 2, 3
)
