"""The routing core: pure, typed, driven by events and `now` (no I/O, no clock)."""
