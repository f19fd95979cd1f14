"""The GG client as it was written before asyncio: an asynchat dispatcher, and plain callbacks."""
