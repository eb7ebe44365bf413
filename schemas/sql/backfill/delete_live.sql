-- Delete the launches of @days (UTC) not loaded from the archive: `binderops backfill
-- --replace-live` runs it in the transaction that loads the archive's launches of those days.
DELETE FROM {{ raw }}.launches
WHERE DATE(timestamp) IN UNNEST(@days)
  AND NOT STARTS_WITH(event_id, 'archive:')
