SELECT origin, COUNT(*) AS launches FROM launches GROUP BY origin ORDER BY launches DESC, origin
