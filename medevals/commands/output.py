"""The two consoles every command prints through, with rich markup OFF.

Text the CLI prints carries user and model data (paths, benchmark and variant names, model
specs, error messages quoting a file's content): with markup on, rich would read ``[embed]``
in an install hint or ``[zero-shot]`` in a table row as a style tag and silently drop it.
Styling is given with ``style=`` or ``rich.text.Text``, never with inline tags.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console


def _width(stream) -> int | None:
    """Piped into a file or ``tail``, rich would lay tables out for 80 columns and cut cells
    ("$0.…"); there is no terminal to fit, so use a wide page unless COLUMNS says otherwise."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return None if tty or os.environ.get("COLUMNS") else 200


# soft_wrap: a long path or message is never broken with a newline ("rep\nort.html"), so what a
# command prints can be copied and grepped; the terminal wraps it visually.
out = Console(emoji=False, markup=False, soft_wrap=True, width=_width(sys.stdout))
err = Console(
    stderr=True, emoji=False, markup=False, highlight=False, soft_wrap=True, width=_width(sys.stderr)
)


def print_error(message: str) -> None:
    """``error: MESSAGE`` on stderr as exactly one line (never wrapped, never markup-parsed)."""
    from rich.text import Text

    line = " ".join(message.split("\n"))
    err.print(Text.assemble(("error:", "bold red"), " ", line), soft_wrap=True)
