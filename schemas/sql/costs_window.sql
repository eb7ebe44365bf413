-- Cost, credits and net per day, source and currency over a window, in the billing currency's units.
SELECT
  day,
  source,
  currency,
  SUM(cost_micros) / 1e6 AS cost,
  SUM(credits_micros) / 1e6 AS credits,
  SUM(net_micros) / 1e6 AS net
FROM cloud_costs_daily
WHERE day BETWEEN @first AND @last
GROUP BY day, source, currency
ORDER BY day, source, currency
