-- Incidents open now: opened and not (yet) closed. Feeds the open_incidents metric.
SELECT COUNT(*) AS open
FROM incidents
WHERE ended IS NULL AND started IS NOT NULL
