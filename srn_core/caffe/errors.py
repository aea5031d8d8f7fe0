"""The one error type of the Caffe importer: the message names the file, layer or blob and the problem."""

from __future__ import annotations


class CaffeImportError(ValueError):
    """A Caffe file cannot be read, run or converted; the message says which part and why."""


class UnsupportedLayerError(CaffeImportError):
    """The net uses a layer type the executor does not implement."""


class MappingError(CaffeImportError):
    """The graph runs but its structure differs from our SRN in a way the mapping cannot express."""
