-- The five latest finished deploys.
SELECT environment, sha, status, finished, build_url
FROM deployments
ORDER BY finished DESC
LIMIT 5
