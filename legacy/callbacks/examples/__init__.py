"""The examples in the callbacks style: every step is a callback(result, error) on legacy.callbacks.Reactor.

Each is a small complete program; run one with `python -m legacy.callbacks.examples.NAME`.
"""
