"""acd: an ACD/IVR server for Asterisk (AMI + FastAGI)."""

__version__ = "0.1.0"
