"""pytest plugin: a fake OpenAI upstream and a real LiteLLM proxy in front of it.

Load with ``pytest_plugins = ["tests.support.plugin"]`` in the root conftest
(or ``-p tests.support.plugin``).  Both servers are session-scoped because the
proxy takes seconds to start; tests isolate themselves through the
function-scoped ``upstream`` fixture, which clears the script and the records.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.fake_openai import FakeOpenAIServer
from tests.support.litellm_proxy import LiteLLMProxy

# The test process imports litellm too: keep that import offline (no price-map
# download) and deaf to a developer's stray .env.  Set at plugin import, which
# happens before any test module imports litellm.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_MODE", "PRODUCTION")


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """The running fake upstream, shared by the whole session."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def litellm_proxy(
    fake_openai: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiteLLMProxy]:
    """The running LiteLLM proxy routing every configured model to ``fake_openai``.

    Its config and ``proxy.log`` stay in pytest's temp dir for post-mortems.
    """
    with LiteLLMProxy(fake_openai.base_url, tmp_path_factory.mktemp("litellm_proxy")) as proxy:
        yield proxy


@pytest.fixture
def upstream(fake_openai: FakeOpenAIServer) -> Iterator[FakeOpenAIServer]:
    """The fake upstream with an empty script and no records, for one test.

    Reset again afterwards so a request the test left hanging (the proxy keeps
    upstream calls open after its client gives up) is dropped now, not at
    session end.
    """
    fake_openai.reset()
    yield fake_openai
    fake_openai.reset()
