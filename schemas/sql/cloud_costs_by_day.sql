-- Gross cost, credits and net per complete day (before @today, in the cost time zone), source
-- and currency, summed over services and projects, with the net in the reporting currency
-- (NULL when any of it could not be converted): what cloud-costs.jsonl and
-- cloud-costs-detail.jsonl publish.
SELECT
  day,
  source,
  currency,
  reporting_currency,
  SUM(cost_micros) AS gross_micros,
  SUM(credits_micros) AS credits_micros,
  SUM(net_micros) AS net_micros,
  IF(COUNTIF(reporting_net_micros IS NULL) > 0, NULL, SUM(reporting_net_micros)) AS reporting_net_micros
FROM cloud_costs_daily
WHERE day < @today
GROUP BY day, source, currency, reporting_currency
ORDER BY day, source, currency, reporting_currency
