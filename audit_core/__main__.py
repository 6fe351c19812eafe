"""python -m audit_core  ->  the mnemoscope command."""

import sys

from audit_core.cli.main import main

sys.exit(main())
