-- Production deploys per ISO week since @first: how many, how many failed (change failure
-- rate), and the median lead time from the sha's first staging build starting to its
-- production build finishing (a push to the deploy branch is the merge). The row whose week
-- is NULL is the whole period's (ROLLUP): its median is over every deploy, not of the weeks'.
WITH staged AS (
  SELECT sha, MIN(started) AS staged_at
  FROM deployments
  WHERE environment = 'staging'
  GROUP BY sha
),
production AS (
  SELECT d.sha, d.status, d.finished, DATE_TRUNC(DATE(d.finished), WEEK(MONDAY)) AS week,
    TIMESTAMP_DIFF(d.finished, staged.staged_at, SECOND) AS lead_seconds
  FROM deployments AS d
  LEFT JOIN staged USING (sha)
  WHERE d.environment = 'production' AND d.finished IS NOT NULL AND DATE(d.finished) >= @first
)
SELECT
  week,
  COUNT(*) AS deploys,
  COUNTIF(status != 'success') AS failed,
  APPROX_QUANTILES(lead_seconds, 2)[OFFSET(1)] AS median_lead_seconds
FROM production
GROUP BY ROLLUP (week)
ORDER BY week
