"""The conformance suite: numbered cases written once, run once per variant through its driver."""
