-- Daily cost per service, project, currency and cost type from the standard Cloud Billing
-- usage cost export, in integer micros so no float drift reaches published figures.
-- Parameters: @tz (IANA time zone of the day boundary), @start_date and @end_date (DATE,
-- inclusive, days in @tz), @currency (the reporting currency). The caller names the export
-- table in the FROM clause. Each row is also converted to @currency: as it is when it is in
-- @currency, else to US dollars by its own currency_conversion_rate (the export's units of
-- its currency per US dollar); a group with any row that cannot be converted has no
-- converted figure at all (NULL), never a partial one.
WITH usage AS (
  SELECT
    DATE(usage_start_time, @tz) AS day,
    IFNULL(service.description, '') AS service_name,
    IFNULL(project.id, '') AS project_id,
    currency,
    IFNULL(cost_type, 'regular') AS kind,
    cost,
    credits,
    -- Units of the row's currency per unit of @currency.
    CASE
      WHEN currency = @currency THEN 1.0
      WHEN @currency = 'USD' AND currency_conversion_rate > 0 THEN currency_conversion_rate
    END AS per_reporting
  FROM {{ billing }}
  -- Partitions follow the export, which trails usage: scan from a little before the window
  -- (the margin also covers any time zone's offset) and every partition after it.
  WHERE _PARTITIONTIME >= TIMESTAMP_SUB(CAST(@start_date AS TIMESTAMP), INTERVAL 2 DAY)
    AND DATE(usage_start_time, @tz) BETWEEN @start_date AND @end_date
),
-- Each row's cost once, and each of its credits once: unnesting credits beside the cost
-- would count a row's cost once per credit.
amounts AS (
  SELECT day, service_name, project_id, currency, kind, CAST(ROUND(cost * 1000000) AS INT64) AS cost_micros, 0 AS credits_micros,
    CAST(ROUND(cost / per_reporting * 1000000) AS INT64) AS reporting_micros
  FROM usage
  UNION ALL
  SELECT day, service_name, project_id, currency, kind, 0 AS cost_micros, CAST(ROUND(c.amount * 1000000) AS INT64) AS credits_micros,
    CAST(ROUND(c.amount / per_reporting * 1000000) AS INT64) AS reporting_micros
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
  SUM(cost_micros) + SUM(credits_micros) AS net_micros,
  IF(COUNTIF(reporting_micros IS NULL) > 0, NULL, SUM(reporting_micros)) AS reporting_net_micros
FROM amounts
GROUP BY day, service_name, project_id, currency, kind
ORDER BY day, service, project, currency, cost_type
