"""Highs objects made quietly: the first one in a process prints a banner to stdout."""

from __future__ import annotations

import os
import sys

import highspy

_banner_shown = False


def new_highs() -> highspy.Highs:
    """A Highs object; the banner the first one prints is swallowed."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    _banner_shown = True
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
