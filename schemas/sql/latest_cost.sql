-- The latest complete day's net cost in the reporting currency @currency, with its
-- launches: what the net_cost and cost_per_launch metrics report after each cost export.
-- A cost that could not be converted is left out (cloud-costs.jsonl lists it).
WITH cost AS (
  SELECT day, SUM(reporting_net_micros) / 1e6 AS net
  FROM cloud_costs_daily
  WHERE reporting_currency = @currency AND day < @today
  GROUP BY day
  ORDER BY day DESC
  LIMIT 1
),
used AS (
  SELECT day, SUM(launches) AS launches
  FROM launches_daily
  WHERE day IN (SELECT day FROM cost)
  GROUP BY day
)
SELECT cost.day, cost.net, COALESCE(used.launches, 0) AS launches
FROM cost
LEFT JOIN used USING (day)
