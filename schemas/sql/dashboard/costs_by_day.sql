-- Net cost per day and source in the reporting currency @currency between @first and @last;
-- ``unconverted`` is what of it could not be converted (left out of ``net``), in its own
-- currency, for the page to say so beside cost per launch.
SELECT
  day,
  source,
  SUM(IF(reporting_currency = @currency, reporting_net_micros, NULL)) / 1e6 AS net,
  STRING_AGG(
    IF(reporting_currency = @currency AND reporting_net_micros IS NOT NULL, NULL,
      CONCAT(FORMAT('%.2f', net_micros / 1e6), ' ', currency)),
    ', ') AS unconverted
FROM cloud_costs_daily
WHERE day BETWEEN @first AND @last
GROUP BY day, source
ORDER BY day, source
