-- Gross cost, credits and net per day, source and currency, summed over services and
-- projects: what cloud-costs.jsonl and cloud-costs-detail.jsonl publish.
SELECT
  day,
  source,
  currency,
  SUM(cost_micros) AS gross_micros,
  SUM(credits_micros) AS credits_micros,
  SUM(net_micros) AS net_micros
FROM cloud_costs_daily
GROUP BY day, source, currency
ORDER BY day, source, currency
