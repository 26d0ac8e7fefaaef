"""Flow tests run against Prefect's test harness: a throw-away local API per module."""

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="module")
def harness():
    with prefect_test_harness():
        yield
