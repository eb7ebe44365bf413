-- Net cost per day, source and currency, summed over services: the lines of cloud-costs.jsonl.
SELECT day, source, currency, SUM(net_micros) AS net_micros
FROM cloud_costs_daily
GROUP BY day, source, currency
ORDER BY day, source, currency
