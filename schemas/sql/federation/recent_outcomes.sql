-- Each member's launch outcomes in the rounds after @since and before @minute: with this
-- round's, the 30-minute window launch success is judged over.
SELECT
  member,
  IFNULL(SUM(launches_success), 0) AS success,
  IFNULL(SUM(launches_failure), 0) AS failure
FROM {{ raw }}.member_probes
WHERE minute > @since AND minute < @minute
GROUP BY member
