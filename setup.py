"""Package layout only (metadata lives in pyproject.toml).

The repository keeps the kernel in ``core/`` and the builtin plugins in ``plugins/``; they install
as ``pimm.core`` and ``pimm.plugins``. Sub-packages are found automatically, so adding a plugin
package needs no change here.
"""

from setuptools import find_packages, setup

SOURCE_ROOTS = {"core": "pimm.core", "plugins": "pimm.plugins"}

packages = []
for source, dotted in SOURCE_ROOTS.items():
    packages.append(dotted)
    packages.extend(f"{dotted}.{sub}" for sub in find_packages(source))

setup(packages=packages, package_dir={dotted: source for source, dotted in SOURCE_ROOTS.items()})
