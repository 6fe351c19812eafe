"""The frozen `mnemoscope` command (console): the same entry point as the installed script."""

import sys

from audit_core.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
