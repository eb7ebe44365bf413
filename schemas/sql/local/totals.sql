SELECT (SELECT COUNT(*) FROM launches) AS launches, (SELECT COUNT(*) FROM {{ raw }}.launch_errors) AS rejected
