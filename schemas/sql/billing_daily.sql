-- Daily cost per service, project, currency and cost type from the standard Cloud Billing
-- usage cost export, in integer micros so no float drift reaches published figures.
-- Parameters: @tz (IANA time zone of the day boundary), @start_date and @end_date (DATE,
-- inclusive, days in @tz). The caller names the export table in the FROM clause.
WITH usage AS (
  SELECT
    DATE(usage_start_time, @tz) AS day,
    IFNULL(service.description, '') AS service_name,
    IFNULL(project.id, '') AS project_id,
    currency,
    IFNULL(cost_type, 'regular') AS kind,
    cost,
    credits
  FROM {{ billing }}
  -- Partitions follow the export, which trails usage: scan from a little before the window
  -- (the margin also covers any time zone's offset) and every partition after it.
  WHERE _PARTITIONTIME >= TIMESTAMP_SUB(CAST(@start_date AS TIMESTAMP), INTERVAL 2 DAY)
    AND DATE(usage_start_time, @tz) BETWEEN @start_date AND @end_date
),
-- Each row's cost once, and each of its credits once: unnesting credits beside the cost
-- would count a row's cost once per credit.
amounts AS (
  SELECT day, service_name, project_id, currency, kind, CAST(ROUND(cost * 1000000) AS INT64) AS cost_micros, 0 AS credits_micros
  FROM usage
  UNION ALL
  SELECT day, service_name, project_id, currency, kind, 0 AS cost_micros, CAST(ROUND(c.amount * 1000000) AS INT64) AS credits_micros
  FROM usage, UNNEST(usage.credits) AS c
)
SELECT
  day,
  service_name AS service,
  project_id AS project,
  currency,
  kind AS cost_type,
  SUM(cost_micros) AS cost_micros,
  SUM(credits_micros) AS credits_micros,
  SUM(cost_micros) + SUM(credits_micros) AS net_micros
FROM amounts
GROUP BY day, service_name, project_id, currency, kind
ORDER BY day, service, project, currency, cost_type
