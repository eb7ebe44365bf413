-- Net cost per day and source in @currency between @first and @last.
SELECT day, source, SUM(net_micros) / 1e6 AS net
FROM cloud_costs_daily
WHERE day BETWEEN @first AND @last AND currency = @currency
GROUP BY day, source
ORDER BY day, source
