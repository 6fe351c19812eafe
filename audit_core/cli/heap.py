"""Keeping Python's cyclic garbage collector off the objects a `mnemoscope run` keeps.

The process of a run holds over 100,000 container objects that live until it exits: the
modules (numpy, scipy, onnxruntime, reportlab, ...), the plan, then the audit's result.
The collector walks every one of them at each full collection and once more while the
interpreter shuts down, and can free none of them. On the demo that was about 0.2 s of
collections while the modules loaded, 0.2 s while the report was written and 0.3-0.6 s
at exit, on a run whose whole overhead outside the audit was a few seconds.

`settle()` moves the objects alive at that moment out of the collector's view
(`gc.freeze`); reference counting still frees them as usual. The command calls it where a
phase begins whose objects outlive it. The price: a reference cycle that already exists at
a call and is dropped later is never collected, so its memory stays taken until the
process ends, minutes later at most; the objects alive at each call are the run's own.
Only a process that is the command alone settles (cli/main.py `main`).
"""

from __future__ import annotations

import gc


def settle() -> None:
    """What is alive now stays to the end of the command: stop scanning it."""
    gc.freeze()


def leave_as_is() -> None:
    """For a command run inside a longer-lived process (a test calling `main(argv)`),
    whose later garbage cycles `settle` would keep from the collector for good."""
