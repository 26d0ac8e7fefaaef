"""Flow tests run against Prefect's test harness: a throw-away local API per module."""

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="module")
def harness():
    # A busy 2-core machine can take well over the default 30 s to start the throw-away API.
    with prefect_test_harness(server_startup_timeout=180):
        yield
