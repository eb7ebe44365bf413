SELECT provider, COUNT(*) AS launches FROM launches GROUP BY provider ORDER BY launches DESC, provider
