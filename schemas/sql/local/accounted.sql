-- How many of the sample's messages are stored or rejected so far ({{ ids }}: quoted event ids).
SELECT
  (SELECT COUNT(*) FROM {{ raw }}.launches WHERE event_id IN ({{ ids }}))
  + (SELECT COUNT(*) FROM {{ raw }}.launch_errors WHERE event_id IN ({{ ids }})) AS n
