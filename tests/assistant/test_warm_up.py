import logging
import sys

from assistant.warm_up import FIRST_CALL_MODULES, warm_model_client


def test_warm_up_loads_what_the_first_answer_would_and_never_raises(caplog):
    caplog.set_level(logging.INFO)
    warm_model_client("litellm_proxy/no-such/model", logging.getLogger("test"))
    assert all(name in sys.modules for name in FIRST_CALL_MODULES)
    assert "Model client warmed up" in caplog.text
