"""``python -m medevals`` runs the CLI (same as the ``medevals`` command)."""

from medevals.commands import startup_gc

startup_gc.pause()  # before the CLI's imports (commands/startup_gc.py says why)

from medevals.cli import main  # noqa: E402

main()
