-- The latest complete day's net cost in @currency, with its launches: what the net_cost
-- and cost_per_launch metrics report after each cost export.
WITH cost AS (
  SELECT day, SUM(net_micros) / 1e6 AS net
  FROM cloud_costs_daily
  WHERE currency = @currency AND day < @today
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
