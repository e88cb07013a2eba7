"""pimm.plugins: the builtin plugins, each a package whose ``__init__`` holds its hookimpls and specs.

The torch code of each plugin sits in sibling modules named by the specs' targets, so listing
components never imports torch.
"""
