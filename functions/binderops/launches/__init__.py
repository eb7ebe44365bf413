"""BinderHub launch events: validation, ingestion from Pub/Sub, archive backfill, and the
BinderHub-side handler that publishes them (which imports nothing else of binderops)."""
