"""`python -m bot` is the `advisor` command."""

import sys

from bot.cli import main

sys.exit(main())
