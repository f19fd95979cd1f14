"""The Gadu-Gadu 8.0 protocol without I/O (packets, hashes, framing, state machines), and the
reference server in the gadu.server subpackage (the one part of gadu that does I/O)."""
