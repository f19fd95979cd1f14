"""The examples in the dispatcher style (asyncore/asynchat, on_* handlers), each a small complete program.

NAME.py runs on legacy.dispatcher.run (asyncore.loop with timers); NAME_asyncio.py is the same code
inside asyncio through compat.bridge.AsyncioBridge. Run one with `python -m legacy.dispatcher.examples.NAME`.
"""
