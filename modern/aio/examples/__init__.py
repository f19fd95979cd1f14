"""The examples in the async/await style on asyncio: where the migration ends.

Each is a small complete program; run one with `python -m modern.aio.examples.NAME`.
"""
