-- When each dataset behind the dashboard last changed. Launches are read raw: the latest
-- ingestion time does not need the public view's deduplication.
SELECT 'launches' AS dataset, MAX(ingested_at) AS updated FROM ${raw}.launches
UNION ALL SELECT 'cloud_costs_daily', MAX(computed_at) FROM cloud_costs_daily
UNION ALL SELECT 'deployments', MAX(finished) FROM deployments
UNION ALL SELECT 'incidents', GREATEST(MAX(started), COALESCE(MAX(ended), MAX(started))) FROM incidents
