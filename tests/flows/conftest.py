"""Flow tests run against Prefect's test harness: a throw-away local API per module."""

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="module")
def harness():
    # Generous: on a busy CI machine the throw-away API can take more than the default 30 s.
    with prefect_test_harness(server_startup_timeout=180):
        yield
