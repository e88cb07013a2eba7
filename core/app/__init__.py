"""pimm.core.app: the application layer — the ``pimm`` command, training, validation, prediction,
export and the ``show`` pictures.

It sits on top of the per-kind framework (``pimm.core.models``, ``.data``, ``.optim``) and the kernel;
nothing in the kernel or the framework imports it (CI checks this with import contracts).
"""
