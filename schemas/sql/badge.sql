-- One repository's launches since @since (a date; the first day there is for "all"), and
-- whether it was ever launched at all: what usage_badge draws. Reads repo_launches_daily
-- only, clustered on provider and repo, so a badge reads kilobytes.
SELECT
  COUNT(*) AS days,
  COALESCE(SUM(IF(day >= @since, launches, 0)), 0) AS launches
FROM repo_launches_daily
WHERE provider = @provider AND repo = @repo
