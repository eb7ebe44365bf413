-- Each member's latest probe before the round @minute (within a day): its state carries on.
SELECT *
FROM {{ raw }}.member_probes
WHERE minute < @minute AND minute >= TIMESTAMP_SUB(@minute, INTERVAL 1 DAY)
QUALIFY ROW_NUMBER() OVER (PARTITION BY member ORDER BY minute DESC) = 1
