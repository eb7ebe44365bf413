-- One repository's launches per day, for each provider it was launched from: usage_badge
-- sums the request's provider's days in the period (none at all: never launched). Reads
-- repo_launches_daily only, clustered on repo, so a badge reads a few rows per day of the
-- repository's history, never the launches. The rows are summed by the caller, not here:
-- on DuckDB a GROUP BY for so few rows costs more than the lookup, and filtering on repo
-- alone lets DuckDB use its index on it.
SELECT provider, day, launches
FROM repo_launches_daily
WHERE repo = @repo
