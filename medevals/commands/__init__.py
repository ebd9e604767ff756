"""CLI command modules beyond the core ones in ``cli.py``; each registers with one line there."""
