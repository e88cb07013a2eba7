"""Package layout only (metadata lives in pyproject.toml).

The repository keeps the kernel in ``core/`` and the builtin plugins in ``plugins/``; they install
as ``pimm.core`` and ``pimm.plugins``. ``pimm_root/`` is the top-level ``pimm`` package itself
(only ``pimm.__version__``); it is not called ``pimm/`` so that running from the checkout (the
current directory comes first on ``sys.path``) never shadows an installed ``pimm`` with a package
that lacks ``core`` and ``plugins``. Sub-packages are found automatically, so adding a plugin
package needs no change here.
"""

from setuptools import find_packages, setup

SOURCE_ROOTS = {"pimm_root": "pimm", "core": "pimm.core", "plugins": "pimm.plugins"}

packages = []
for source, dotted in SOURCE_ROOTS.items():
    packages.append(dotted)
    packages.extend(f"{dotted}.{sub}" for sub in find_packages(source))

setup(packages=packages, package_dir={dotted: source for source, dotted in SOURCE_ROOTS.items()})
