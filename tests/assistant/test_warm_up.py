import logging
import subprocess
import sys
from pathlib import Path

from assistant.warm_up import FIRST_CALL_MODULES, warm_model_client

ROOT = Path(__file__).resolve().parents[2]


def test_warm_up_loads_what_the_first_answer_would_and_never_raises(caplog):
    caplog.set_level(logging.INFO)
    warm_model_client("litellm_proxy/no-such/model", logging.getLogger("test"))
    assert all(name in sys.modules for name in FIRST_CALL_MODULES)
    assert "Model client warmed up" in caplog.text


def test_after_warm_up_collections_leave_the_long_lived_objects_alone():
    # In a fresh process: freezing is process-wide.
    script = (
        "import gc, logging, time\n"
        "from assistant.warm_up import warm_model_client\n"
        "warm_model_client('litellm_proxy/gpt-4', logging.getLogger('t'))\n"
        "started = time.perf_counter(); gc.collect()\n"
        "print(gc.get_freeze_count(), (time.perf_counter() - started) * 1000)\n"
    )
    frozen, full_collection_ms = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    assert int(frozen) > 100_000, "the imported modules' objects are frozen"
    print(f"full collection after warm-up: {float(full_collection_ms):.1f} ms")
