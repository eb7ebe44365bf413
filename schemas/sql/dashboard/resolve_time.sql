-- Incidents that started since @first: how many, how many are resolved, and their mean time
-- to resolve (the DORA four's time to restore).
SELECT
  COUNT(*) AS incidents,
  COUNT(duration_seconds) AS resolved,
  AVG(duration_seconds) AS mean_seconds
FROM incidents
WHERE DATE(started) >= @first
