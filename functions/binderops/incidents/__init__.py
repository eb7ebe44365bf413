"""Incident notification: Cloud Monitoring alerts become blameless reports, chat notices and
rows of ``incident_notifications``."""
