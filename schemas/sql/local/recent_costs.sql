-- Net cost of the last three days per source and currency.
SELECT day, source, currency, SUM(net_micros) / 1e6 AS net
FROM cloud_costs_daily
WHERE day >= DATE_SUB(CURRENT_DATE(), INTERVAL 3 DAY)
GROUP BY day, source, currency
ORDER BY day, source, currency
