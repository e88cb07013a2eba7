"""The conformance kit over every bridged torchvision model (slow: run it with --run-large).

Every case here is marked ``large``; the CI subset is tests/test_conformance.py.
"""

import pytest

from pimm.core.testing import parametrize_components

EXPECTED_FAILURES = {
    f"model/tv-{name}::check_features_only": "unpadded convs: at the kit's 75 px input the maps are smaller than "
    "input / reduction by more than one pixel"
    for name in ("inception_v3", "squeezenet1_0")
}
EXPECTED_FAILURES.update({
    f"model/tv-{name}::check_every_pool": "a pre-logit MLP between pool and classifier has a fixed output width"
    for name in ("mobilenet_v3_small", "mobilenet_v3_large", "maxvit_t")
})


@pytest.mark.large
@parametrize_components(kind="model", plugin="torchvision", expected_failures=EXPECTED_FAILURES)
def test_conformance_all(component, check):
    check(component)
