-- How fresh each dataset behind the dashboard is. Launches: the newest launch's time (already
-- cut to the minute), not when rows were last written: a backfill of last year writes rows
-- now. Read raw: the newest time needs no deduplication.
SELECT 'launches' AS dataset, MAX(timestamp) AS updated FROM {{ raw }}.launches
UNION ALL SELECT 'cloud_costs_daily', MAX(computed_at) FROM cloud_costs_daily
UNION ALL SELECT 'deployments', MAX(finished) FROM deployments
UNION ALL SELECT 'incidents', GREATEST(MAX(started), COALESCE(MAX(ended), MAX(started))) FROM incidents
