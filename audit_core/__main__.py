"""python -m audit_core  ->  the mnemoscope command."""

import sys

from audit_core.cli import main

sys.exit(main())
