"""``python -m medevals`` runs the CLI (same as the ``medevals`` command)."""

from medevals.commands import startup

startup.pause()  # before the CLI's imports (commands/startup.py says why)

from medevals.cli import main  # noqa: E402

main()
