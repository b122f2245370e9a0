"""Gone: the IVR is driven by the call's session (acd.callflow.arrival.run_ivr).

Only this name is left, for acd.callflow.arrival's import; it lives in
acd.ivr.model now. Delete this module once that import reads acd.ivr.model.
"""

from acd.ivr.model import resolve_entry

__all__ = ["resolve_entry"]
