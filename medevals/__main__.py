"""``python -m medevals`` runs the CLI (same as the ``medevals`` command)."""

from medevals.cli import main

main()
