"""What made an output: the formcheck version stamped into reports, tracks and batch records."""

from __future__ import annotations

from importlib import metadata

try:
    FORMCHECK_VERSION = metadata.version("formcheck")
except metadata.PackageNotFoundError:  # a source checkout that was never installed
    FORMCHECK_VERSION = "0+unknown"
