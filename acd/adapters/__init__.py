"""Adapters at the edge: Asterisk (AMI, FastAGI), Redis, HTTP."""
