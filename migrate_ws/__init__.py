"""migrate-ws: safe, reviewable import migrations for Python repositories."""

__version__ = "0.1.0"
