-- Each federation member's probes and probes judged up, by hour, over the 90 days before
-- @now, from the public member_health view: what the uptime badge draws, counted in whole
-- hours as the status page counts them (federation.status.uptime).
SELECT
  member,
  TIMESTAMP_TRUNC(minute, HOUR) AS hour,
  COUNT(*) AS probes,
  COUNTIF(up) AS ups
FROM {{ public }}.member_health
WHERE minute > TIMESTAMP_SUB(@now, INTERVAL 90 DAY) AND minute <= @now
GROUP BY member, hour
