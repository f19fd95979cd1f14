"""The GG client after the migration: on a from-scratch yield-from loop, and on asyncio with async/await."""
