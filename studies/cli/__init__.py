"""The `landau` command line: one module per command, assembled by ``studies.cli.app``.

Nothing imports the CLI; the console script is ``studies.cli:main``.
"""

from studies.cli.app import main

__all__ = ["main"]
