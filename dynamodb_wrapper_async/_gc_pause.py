"""Pause Python's cyclic garbage collector while a response page is turned into results.

A 1 MB Scan page parses into ~35,000 dicts and lists at once (counted for 1,831 items of ~450
bytes). With the collector on, allocating them runs young collections that find them all
alive (they are, until converted) and promote them, and the promoted count is what triggers
full collections, which walk the whole heap: measured, that was half the client's CPU of a
parallel scan. The page and its results hold no reference cycles, so nothing is lost by not
looking for cycles while they are built; the collector runs again as soon as the page is done
(the same remedy as Mercurial's ``util.nogc``). A collector that was already off stays off.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def without_gc(function: Callable[[T], R], argument: T) -> R:
    """Return ``function(argument)``, computed with the cyclic garbage collector paused."""
    if not gc.isenabled():
        return function(argument)
    gc.disable()
    try:
        return function(argument)
    finally:
        gc.enable()
