"""The two consoles every command prints through, with rich markup OFF.

Text the CLI prints carries user and model data (paths, benchmark and variant names, model
specs, error messages quoting a file's content): with markup on, rich would read ``[embed]``
in an install hint or ``[zero-shot]`` in a table row as a style tag and silently drop it.
Styling is given with ``style=`` or ``rich.text.Text``, never with inline tags.
"""

from __future__ import annotations

from rich.console import Console

out = Console(emoji=False, markup=False)
err = Console(stderr=True, emoji=False, markup=False, highlight=False)


def print_error(message: str) -> None:
    """``error: MESSAGE`` on stderr as exactly one line (never wrapped, never markup-parsed)."""
    from rich.text import Text

    line = " ".join(message.split("\n"))
    err.print(Text.assemble(("error:", "bold red"), " ", line), soft_wrap=True)
