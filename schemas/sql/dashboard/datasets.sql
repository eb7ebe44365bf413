-- When each dataset behind the dashboard last changed.
SELECT 'launches' AS dataset, MAX(ingested_at) AS updated FROM launches
UNION ALL SELECT 'cloud_costs_daily', MAX(computed_at) FROM cloud_costs_daily
UNION ALL SELECT 'deployments', MAX(finished) FROM deployments
UNION ALL SELECT 'incidents', GREATEST(MAX(started), COALESCE(MAX(ended), MAX(started))) FROM incidents
