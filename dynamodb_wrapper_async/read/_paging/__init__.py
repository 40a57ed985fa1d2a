"""Paging, all of it: one paged Query or Scan (``pages``), a fan-out over the partitions of
an index (``fanout``) and parallel-scan segments merged as they come (``parallel``).

Every page is decoded and converted as its response is parsed; ``limit`` counts results
returned and a page token resumes right after the last one (``request``).
"""

from .fanout import FanOut as FanOut
from .fanout import collect_fanout as collect_fanout
from .fanout import iterate_fanout as iterate_fanout
from .pages import collect_page as collect_page
from .pages import iterate_pages as iterate_pages
from .parallel import parallel_pages as parallel_pages
from .request import PageRequest as PageRequest
from .request import check_limit as check_limit

__all__ = [
    "FanOut",
    "PageRequest",
    "check_limit",
    "collect_fanout",
    "collect_page",
    "iterate_fanout",
    "iterate_pages",
    "parallel_pages",
]
