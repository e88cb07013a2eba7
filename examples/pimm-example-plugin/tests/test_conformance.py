from pimm.core.testing import parametrize_components


@parametrize_components(plugin="example")
def test_conformance(component, check):
    check(component)
