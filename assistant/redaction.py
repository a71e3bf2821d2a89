"""Scrub secrets (always) and personal data (on request) from text before it leaves the assistant.

Why: every message the assistant reads is forwarded to an external model provider and shows up
in our logs. People paste bot tokens, API keys, connection strings and private keys into Slack
while asking "why does this fail?"; once sent, a secret can be neither recalled from the provider
nor reliably purged from log storage, so it has to be removed before it is sent or logged.
Personal data (emails, phone numbers, card numbers) is scrubbed only when a deployment asks for
it, because many teams legitimately discuss contact details with the assistant.

Choices that follow from that:

* A secret becomes a labelled placeholder (`[redacted slack token]`) instead of vanishing, so the
  model and a person reading logs still understand what the user meant.
* Redaction is idempotent: thread history is re-sent every turn, so text may be redacted many
  times; a placeholder is never redacted again and never grows.
* Slack markup (`<@U…>`, `<#C…|name>`, `<url|label>`, `:emoji:`, code fences) survives, or the
  answer would refer to people, channels and links that no longer resolve.
* When in doubt about a secret we redact (a false positive costs a word, a miss leaks a key); for
  personal data we prefer to miss, because digits in dates, versions, ids and URLs are far more
  common than phone numbers and mangling them makes questions unanswerable.
* No catastrophic backtracking: every unbounded quantifier either follows a literal prefix, or
  may only start where its own character class starts (a negative look-behind on that class), so
  each character is scanned a bounded number of times and a 1 MB paste cannot stall the bot.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["luhn_valid", "redact", "redact_pii", "redact_secrets"]

_Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


def _label(kind: str) -> str:
    return f"[redacted {kind}]"


# Value patterns refuse to start at a placeholder, which is what makes a second pass a no-op.
_NOT_PLACEHOLDER = r"(?!\[redacted )"

# Secrets

# A truncated paste still leaks key material, so a BEGIN without END runs to the end of the text.
# It stops early only at a code fence: base64 and PEM headers never contain backticks, so nothing
# secret lies beyond it, and keeping the fence keeps the rest of the message readable.
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----|(?:(?!```).)*)",
    re.DOTALL,
)

_SLACK_WEBHOOK = re.compile(
    r"https?://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]+"
)

# xoxb/xoxp/xoxa/xoxr/xoxs bot and user tokens, xoxe refresh and xoxe.xoxp rotated tokens, xoxc/xoxd
# browser session credentials, xapp app-level tokens. "xoxo" is a word, hence not [a-z]. The body
# is matched to the end of its character run so a re-run finds no tail left to redact.
_SLACK_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:xox(?:e\.xox)?[abcdeprs]|xapp)-[A-Za-z0-9%-]{10,}"
)

_GITHUB_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[opsur]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"
)

_STRIPE_KEY = re.compile(r"(?<![A-Za-z0-9_])[rs]k_(?:live|test)_[A-Za-z0-9]{10,}")

# OpenAI, LiteLLM virtual keys, sk-proj-, sk-ant-. Requiring 16+ characters and at least one digit
# or capital keeps hyphenated words ("sk-ip", "sk-learn-compatible-models") while a random key body
# lacks both with negligible probability.
_SK_API_KEY = re.compile(
    r"(?<![A-Za-z0-9_-])sk-(?=[a-z_-]*[A-Z0-9])[A-Za-z0-9_-]{16,}"
)

_AWS_ACCESS_KEY_ID = re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")

# Real keys are exactly 39 characters; a longer run is still redacted whole so nothing is left over.
_GOOGLE_API_KEY = re.compile(r"(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35,}")

# In a header the value is always a credential, whatever it looks like. The scheme is possessive so
# that a second pass cannot mistake the kept "Bearer" itself for the value.
_AUTHORIZATION_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*"
    r"(?:(?:bearer|basic|token|digest|negotiate|ntlm|apikey)[ \t]+)?+)"
    + _NOT_PLACEHOLDER
    + r"([^\s\"'`<>|]+)"
)

# Outside a header "bearer" is also an English word ("the bearer of bad news"), so the value must
# look like a token: a digit somewhere, or too long to be a word.
_BEARER_TOKEN = re.compile(
    r"\b((?i:bearer)[ \t]+)"
    r"((?=[A-Za-z._~+/-]*[0-9])[A-Za-z0-9._~+/-]{8,}=*|[A-Za-z0-9._~+/-]{20,}=*)"
)

# scheme://user:password@host (an empty user is common: redis://:pw@host). The password may hold
# an unencoded "@"; greedy matching takes the last one in the authority, so all of it goes.
_URL_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/?#@<>|\"'`]*:)"
    + _NOT_PLACEHOLDER
    + r"[^\s/?#<>|\"'`]+@"
)

# key=value / key: value in env files, YAML, JSON, query strings, CLI flags and headers. Only the
# end of the key is matched (DB_PASSWORD, client_secret, x-api-key all end in a keyword), so the
# key must end with the keyword: "max_tokens=5" and "tokenizer=bert" stay. Emoji are not keys:
# a keyword right after ":" is one (":secret: sauce"), and so is a ":" after a space ("the token
# :tada:"), which YAML and env files never write (JSON's '"token" :' has its quote first).
# "==" and "::" are comparisons and scopes, not assignments.
_KEY_VALUE = re.compile(
    r"(?i)(?<!:)("
    r"(?:passw(?:or)?d|passphrase|pwd|secret(?:[_-]?key)?|(?:api|access|private)[_-]?key|token)"
    r"(?:[\"']?[ \t]*=|[\"'][ \t]*:|:)[ \t]*)"
    r"(?![=:])"
    r"(\"" + _NOT_PLACEHOLDER + r"[^\"\n]+\"?"
    r"|'" + _NOT_PLACEHOLDER + r"[^'\n]+'?"
    # Stops at "&" (next query parameter), "|" and "<>" (Slack link syntax) and "`" (code spans).
    r"|(?:" + _NOT_PLACEHOLDER + r"[^\s\"'`<>|&])+)"
)


def _key_value(match: re.Match[str]) -> str:
    key, value = match.group(1), match.group(2)
    quote = value[0]
    if quote in "\"'":
        closing = quote if len(value) > 1 and value.endswith(quote) else ""
        return f"{key}{quote}{_label('secret')}{closing}"
    return key + _label("secret")


# Specific shapes run before the generic rules so they get the more helpful label, and the generic
# rules then see a placeholder and leave it alone.
_SECRET_RULES: tuple[_Rule, ...] = (
    (_PEM_PRIVATE_KEY, _label("private key")),
    (_SLACK_WEBHOOK, _label("slack webhook")),
    (_SLACK_TOKEN, _label("slack token")),
    (_GITHUB_TOKEN, _label("github token")),
    (_STRIPE_KEY, _label("stripe key")),
    (_SK_API_KEY, _label("api key")),
    (_AWS_ACCESS_KEY_ID, _label("aws access key")),
    (_GOOGLE_API_KEY, _label("google api key")),
    (_AUTHORIZATION_HEADER, r"\1" + _label("credentials")),
    (_BEARER_TOKEN, r"\1" + _label("token")),
    (_URL_PASSWORD, r"\1" + _label("password") + "@"),
    (_KEY_VALUE, _key_value),
)


def redact_secrets(text: str) -> str:
    """Replace credentials in `text` with labelled placeholders; everything else is kept."""
    for pattern, replacement in _SECRET_RULES:
        text = pattern.sub(replacement, text)
    return text


# Personal data

# "/" before the local part means URL userinfo or a path (https://user@host, medium.com/@name),
# which identifies an account on a host rather than a mailbox; mailto: and plain text still match.
# "]" counts as part of a word so text glued to a placeholder is judged as it was before it.
_EMAIL = re.compile(
    r"(?<![\w.%+/\]-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)

# Digits inside URLs are ids, timestamps and paths far more often than phone or card numbers, and
# rewriting them would break the link, so the PII number rules skip URLs (a link label is not
# part of the URL and is still scrubbed).
_URL = r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s<>|]*"

# Three shapes: international numbers need a "+", North American ones the 3-3-4 grouping with
# separators, national ones a leading trunk "0" and a separator after the area code. Dates
# (2026-11-24), times, versions (1.2.3), Slack timestamps (1700000000.123456) and ids
# (U0123456789) fit none of them. A number glued to a word or continuing with more digits
# belongs to something else; the same test on both ends (and "]" counting as glue, as a
# placeholder does) keeps a second pass from finding a number the first one refused.
_NOT_AFTER_NUMBER = r"(?<![\w+\]])(?<![0-9\]][.,:/-])"
_NOT_BEFORE_NUMBER = r"(?!\w|[.,:/-][0-9])"
_PHONE = (
    _NOT_AFTER_NUMBER
    + r"(?:\+[0-9]{1,3}(?:[ ().\-/]{0,2}[0-9]){6,12}"
    r"|(?:1[ .-])?(?:\([0-9]{3}\)[ ]?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}"
    r"|0[0-9]{2,4}[ /-][0-9]{3,8}(?:[ -][0-9]{2,8})?)"
    + _NOT_BEFORE_NUMBER
)
_PHONE_OR_URL = re.compile(f"(?P<url>{_URL})|{_PHONE}")

# A card number is found by checksum, not by shape alone, so a rejected candidate must not hide a
# real card next to it. The regex therefore only finds whole runs of digit groups and the
# checksum search over the groups happens in Python (`_redact_cards_in_run`).
_DIGIT_RUN = _NOT_AFTER_NUMBER + r"[0-9]+(?:[ -][0-9]+)*"
_DIGIT_RUN_OR_URL = re.compile(f"(?P<url>{_URL})|{_DIGIT_RUN}")
_DIGIT_GROUP = re.compile(r"[0-9]+")
# The right-hand half of _NOT_BEFORE_NUMBER: the run's last group belongs to something else.
_RUN_CONTINUES = re.compile(r"\w|[.,:/-][0-9]")

_CARD_MIN_DIGITS = 13
_CARD_MAX_DIGITS = 19

# Luhn doubles every second digit from the right and adds the digits of the product; the table
# maps a digit to that sum so the whole check runs in C (str.translate, bytes sum), which keeps
# a megabyte of digit groups fast.
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")


def luhn_valid(digits: str) -> bool:
    """Whether `digits` passes the Luhn checksum; spaces and dashes between digits are ignored.

    Anything else that is not an ASCII digit, or no digit at all, is not a valid number.
    """
    cleaned = digits.replace(" ", "").replace("-", "")
    if not cleaned or not cleaned.isascii() or not cleaned.isdigit():
        return False
    return _luhn_ok(cleaned)


def _luhn_ok(ascii_digits: str) -> bool:
    from_right = ascii_digits[::-1]
    kept, doubled = from_right[0::2], from_right[1::2].translate(_LUHN_DOUBLED)
    total = sum(kept.encode()) + sum(doubled.encode()) - ord("0") * len(from_right)
    return total % 10 == 0


def _furthest_card_end(groups: list[str], start: int) -> int:
    """End (exclusive) of the furthest Luhn-valid card number starting at group `start`, or `start`.

    Cards are written as one block of digits or in groups of 3-6 (4-4-4-4, 4-6-5, 4-4-4-4-3);
    demanding that grouping keeps checksum hits inside tables of small numbers rare.
    """
    first = len(groups[start])
    if _CARD_MIN_DIGITS <= first <= _CARD_MAX_DIGITS:
        return start + 1 if _luhn_ok(groups[start]) else start
    if not 3 <= first <= 6:
        return start
    furthest = start
    digits = first
    end = start + 1
    while end < len(groups):
        size = len(groups[end])
        digits += size
        if not 3 <= size <= 6 or digits > _CARD_MAX_DIGITS:
            break
        end += 1
        if digits >= _CARD_MIN_DIGITS and _luhn_ok("".join(groups[start:end])):
            furthest = end
    return furthest


def _redact_cards_in_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if match.group("url") is not None:
        return run
    spans = [group.span() for group in _DIGIT_GROUP.finditer(run)]
    if _RUN_CONTINUES.match(match.string, match.end()):
        spans.pop()
    groups = [run[a:b] for a, b in spans]
    # Every group inside any valid window is redacted, not just one window picked greedily: a
    # chance checksum hit on "555-123-4567 4111" must not leave the real card after it half shown.
    covered_to = 0
    stretches: list[tuple[int, int]] = []
    for start in range(len(groups)):
        end = _furthest_card_end(groups, start)
        if end > start:
            if stretches and start < covered_to:
                first, _ = stretches.pop()
                covered_to = max(covered_to, end)
                stretches.append((first, covered_to))
            else:
                covered_to = end
                stretches.append((start, end))
    pieces: list[str] = []
    copied_to = 0
    for first, end in stretches:
        pieces.append(run[copied_to : spans[first][0]])
        pieces.append(_label("card number"))
        copied_to = spans[end - 1][1]
    pieces.append(run[copied_to:])
    return "".join(pieces)


def _redact_phone(match: re.Match[str]) -> str:
    return match.group(0) if match.group("url") is not None else _label("phone")


def redact_pii(text: str) -> str:
    """Replace email addresses, phone numbers and Luhn-valid card numbers with placeholders."""
    text = _EMAIL.sub(_label("email"), text)
    # Cards before phones: a spaced card number can look like a run of phone groups.
    text = _DIGIT_RUN_OR_URL.sub(_redact_cards_in_run, text)
    return _PHONE_OR_URL.sub(_redact_phone, text)


def redact(text: str, *, pii: bool) -> str:
    """Redact secrets always and personal data when `pii` is set; safe to apply repeatedly."""
    text = redact_secrets(text)
    return redact_pii(text) if pii else text
