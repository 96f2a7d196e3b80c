"""``python -m nnplay`` runs the command line."""

import sys

from nnplay.cli import main

sys.exit(main())
