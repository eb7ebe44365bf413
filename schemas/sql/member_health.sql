-- Per federation member and probe minute (deduplicated on probe_id): /health's answer, the
-- checks that failed, response time, pod headroom against quota, version drift from the
-- reference member, and whether the member was judged up (down after 3 failed probes in a
-- row, up again after 2 good ones).
SELECT
  minute,
  member,
  ok,
  status,
  failed_checks,
  response_ms,
  quota - pods AS pod_headroom,
  drift,
  up
FROM {{ raw }}.member_probes
WHERE TRUE  -- GoogleSQL allows QUALIFY only beside WHERE, GROUP BY or HAVING
QUALIFY ROW_NUMBER() OVER (PARTITION BY probe_id ORDER BY probed_at) = 1
