"""`python -m collector ...`: the `collector` command without the console script installed."""

import sys

from .cli import main

sys.exit(main())
