"""python -m desktop: start the desktop app."""

import sys

from desktop.app import main

sys.exit(main())
