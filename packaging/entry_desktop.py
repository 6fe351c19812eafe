"""The frozen `mnemoscope-desktop` application (windowed): the same entry point as the installed one."""

import sys

from desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
