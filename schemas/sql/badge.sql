-- One repository's launches since @since (a date; the first day there is for "all"), for
-- each provider it was launched from, and on how many days: what usage_badge draws (the
-- request's provider; none found, never launched). Reads repo_launches_daily only,
-- clustered on repo, so a badge reads kilobytes; filtering on repo alone lets DuckDB use
-- its index on it.
SELECT
  provider,
  COUNT(*) AS days,
  COALESCE(SUM(IF(day >= @since, launches, 0)), 0) AS launches
FROM repo_launches_daily
WHERE repo = @repo
GROUP BY provider
