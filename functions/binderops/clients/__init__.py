"""Clients for the services binderops talks to over HTTP: the retry contract (``http``),
GitHub and chat."""
