"""The examples in the yield-from style: generator coroutines (`@coroutine`, `yield from`).

NAME.py runs on the from-scratch modern.loop; NAME_asyncio.py is the same code on an asyncio loop
(compat.coroutine makes the generators native coroutines). `main(argv, loop=None)` takes a loop to run on.
"""
