-- The month from @first to @last: its launches, and per source its net cloud cost in the
-- reporting currency @currency, the days with costs, and what could not be converted (left
-- out of ``net``, in its own currency): the headline's cost per launch and what it leaves out.
WITH launched AS (
  SELECT SUM(launches) AS launches FROM launches_daily WHERE day BETWEEN @first AND @last
),
costs AS (
  SELECT
    source,
    COUNT(DISTINCT day) AS days,
    SUM(IF(reporting_currency = @currency, reporting_net_micros, NULL)) / 1e6 AS net,
    STRING_AGG(
      IF(reporting_currency = @currency AND reporting_net_micros IS NOT NULL, NULL,
        CONCAT(FORMAT('%.2f', net_micros / 1e6), ' ', currency)),
      ', ') AS unconverted
  FROM cloud_costs_daily
  WHERE day BETWEEN @first AND @last
  GROUP BY source
)
SELECT source, days, net, unconverted, launches
FROM launched LEFT JOIN costs ON TRUE
ORDER BY source
