"""Acceptance tests: the user's seed plan run against a legacy application, before and after the migration."""
