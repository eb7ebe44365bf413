-- When each dataset behind the dashboard last changed. Launches are read raw: the latest
-- ingestion time does not need the public view's deduplication. It is cut to the minute,
-- as the public view cuts it: to the microsecond it would date the latest launch.
SELECT 'launches' AS dataset, TIMESTAMP_TRUNC(MAX(ingested_at), MINUTE) AS updated FROM {{ raw }}.launches
UNION ALL SELECT 'cloud_costs_daily', MAX(computed_at) FROM cloud_costs_daily
UNION ALL SELECT 'deployments', MAX(finished) FROM deployments
UNION ALL SELECT 'incidents', GREATEST(MAX(started), COALESCE(MAX(ended), MAX(started))) FROM incidents
