-- Daily cost per service, project, currency and cost type from the standard Cloud Billing
-- usage cost export, in integer micros so no float drift reaches published figures.
-- Parameters: @tz (IANA time zone of the day boundary), @start_date and @end_date (DATE,
-- inclusive, days in @tz). The caller names the export table in the FROM clause.
SELECT
  day,
  service,
  project,
  currency,
  cost_type,
  cost_micros,
  credits_micros,
  cost_micros + credits_micros AS net_micros
FROM (
  SELECT
    DATE(usage_start_time, @tz) AS day,
    IFNULL(service.description, '') AS service,
    IFNULL(project.id, '') AS project,
    currency,
    IFNULL(cost_type, 'regular') AS cost_type,
    SUM(CAST(ROUND(cost * 1000000) AS INT64)) AS cost_micros,
    SUM(IFNULL((SELECT SUM(CAST(ROUND(c.amount * 1000000) AS INT64)) FROM UNNEST(credits) AS c), 0)) AS credits_micros
  FROM ${billing}
  -- Partitions follow the export, which trails usage: scan from a little before the window
  -- (the margin also covers any time zone's offset) and every partition after it.
  WHERE _PARTITIONTIME >= TIMESTAMP_SUB(CAST(@start_date AS TIMESTAMP), INTERVAL 2 DAY)
    AND DATE(usage_start_time, @tz) BETWEEN @start_date AND @end_date
  -- By position: the output names shadow export columns (service, project, cost_type).
  GROUP BY 1, 2, 3, 4, 5
)
ORDER BY day, service, project, currency, cost_type
