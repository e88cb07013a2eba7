"""Builtin plugin 'pools' (specs only; no torch import here)."""

from pimm.core import hookimpl
