"""Shared by the fixture examples: not an example itself."""
