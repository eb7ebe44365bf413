-- Per member of the federation register and day: its costs in the reporting currency (its
-- Google Cloud projects' billing-export rows and its invoices), its launches (by the origin
-- its launch events carry), and cost per launch. Cost days are in the cost time zone, launch
-- days in UTC. `unconverted` counts cost rows that could not be converted to the reporting
-- currency: such a day's cost leaves them out, and says so.
WITH costs AS (
  SELECT
    c.day,
    m.name AS member,
    ANY_VALUE(c.reporting_currency) AS currency,
    SUM(c.reporting_net_micros) AS net_micros,
    COUNTIF(c.reporting_net_micros IS NULL) AS unconverted
  FROM {{ public }}.cloud_costs_daily AS c
  JOIN {{ public }}.federation_members AS m
    ON (c.source = 'gcp-billing-export' AND c.project IN UNNEST(SPLIT(IFNULL(m.projects, ''), ' ')))
    OR (m.invoice IS NOT NULL AND m.invoice != '' AND c.source = CONCAT('invoice:', m.invoice))
  GROUP BY c.day, m.name
),
used AS (
  SELECT l.day, m.name AS member, SUM(l.launches) AS launches
  FROM {{ public }}.launches_daily AS l
  JOIN {{ public }}.federation_members AS m ON l.origin = m.origin
  GROUP BY l.day, m.name
)
SELECT
  day,
  member,
  costs.currency,
  costs.net_micros / 1e6 AS cost,
  IFNULL(costs.unconverted, 0) AS unconverted,
  IFNULL(used.launches, 0) AS launches,
  SAFE_DIVIDE(costs.net_micros / 1e6, used.launches) AS cost_per_launch
FROM costs
FULL OUTER JOIN used USING (day, member)
