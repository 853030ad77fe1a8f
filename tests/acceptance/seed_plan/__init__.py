"""The user's 17-test plan (Issue #1182), run against the application in MIGRATE_WS_APP_ROOT."""
