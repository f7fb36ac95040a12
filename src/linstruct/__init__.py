"""linstruct: shared helpers of a book of reproducible studies on the linear structure
hidden inside nonlinear neural networks.

Chapters import what they need from the submodules; the most common names are
re-exported here.
"""
from __future__ import annotations

__version__ = "0.1.0"
