"""The assistant's domain: settings, the answer pipeline and the pieces it is made of.

Slack listeners live in `listeners/`; they translate Slack payloads and call into this package.
"""
