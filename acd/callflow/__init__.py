"""The life of one call: a pure session (acd.callflow.session), its scripts, and the
async driver that runs it against the adapters' ports."""
