-- Net cost per day and source in @currency between @first and @last, with the day's
-- launches (the same on every source's row) for cost per launch.
WITH used AS (
  SELECT day, SUM(launches) AS launches
  FROM launches_daily
  WHERE day BETWEEN @first AND @last
  GROUP BY day
)
SELECT c.day, c.source, SUM(c.net_micros) / 1e6 AS net, COALESCE(MAX(used.launches), 0) AS launches
FROM cloud_costs_daily AS c
LEFT JOIN used ON used.day = c.day
WHERE c.day BETWEEN @first AND @last AND c.currency = @currency
GROUP BY c.day, c.source
ORDER BY c.day, c.source
