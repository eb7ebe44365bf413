-- member_costs_daily by month: each member's costs in the reporting currency, launches, and
-- cost per launch; `unconverted` counts the cost rows left out for want of a rate.
SELECT
  DATE_TRUNC(day, MONTH) AS month,
  member,
  ANY_VALUE(currency) AS currency,
  SUM(cost) AS cost,
  SUM(unconverted) AS unconverted,
  SUM(launches) AS launches,
  SAFE_DIVIDE(SUM(cost), SUM(launches)) AS cost_per_launch
FROM {{ public }}.member_costs_daily
GROUP BY month, member
