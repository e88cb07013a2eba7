"""Builtin plugin 'readers' (specs only; no torch import here)."""

from pimm.core import hookimpl
