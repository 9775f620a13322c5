"""Tandem's Qt-free core: records, the encrypted local store, and the field workflows.

Nothing in this package imports Qt, so it runs and is tested with no display.
"""

__version__ = "0.2.0"
