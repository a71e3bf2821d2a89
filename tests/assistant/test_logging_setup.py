import logging

from assistant.logging_setup import REDACTED, SecretRedactingFilter


def _record(msg, *args, exc_info=None):
    return logging.LogRecord("t", logging.DEBUG, __file__, 1, msg, args, exc_info)


def test_secrets_are_redacted_from_messages_arguments_and_tracebacks():
    redactor = SecretRedactingFilter(["xoxb-secret-token", "sk-proxy-key", "abc"])
    record = _record("headers=%s key=%s", {"Authorization": "Bearer xoxb-secret-token"}, "sk-proxy-key")
    assert redactor.filter(record)
    assert "xoxb-secret-token" not in record.getMessage() and "sk-proxy-key" not in record.getMessage()
    assert REDACTED in record.getMessage()
    try:
        raise RuntimeError("failed with sk-proxy-key")
    except RuntimeError:
        import sys

        failing = _record("boom", exc_info=sys.exc_info())
    redactor.filter(failing)
    assert "sk-proxy-key" not in failing.exc_text
    # Very short values are not treated as secrets: redacting them would mangle ordinary text.
    assert "abc" in _redacted(redactor, "abc")


def _redacted(redactor, text):
    record = _record(text)
    redactor.filter(record)
    return record.getMessage()


def test_litellm_logs_go_through_the_redacting_handler_only(capsys):
    import litellm  # noqa: F401  (attaches its own handlers at import)

    from assistant.logging_setup import configure_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("INFO", ["sk-proxy-secret-key"])
        logging.getLogger("LiteLLM").error("call failed with key sk-proxy-secret-key")
        err = capsys.readouterr().err
        leftover = [h for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy") for h in logging.getLogger(name).handlers]
    finally:
        root.handlers[:], root.level = saved
    assert err.count("call failed") == 1 and "sk-proxy-secret-key" not in err
    assert leftover == [], "a handler of litellm's own would print unredacted"
