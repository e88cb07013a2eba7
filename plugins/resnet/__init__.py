"""Builtin plugin 'resnet' (specs only; no torch import here)."""

from pimm.core import hookimpl
