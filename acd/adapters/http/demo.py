"""A stand-in CRM for the shipped IVR (ivr_flows/main.yaml): a few orders whose status
key 2 reads out, and a few callers its `vip_check` knows as VIP customers. Fixed demo
data, served without a login like any CRM the IVR's lookups would ask; a real
deployment points the flow's `lookup` nodes at its own CRM instead."""

from __future__ import annotations

from typing import Any

from acd.rules.numbers import normalise_number

ORDERS: dict[str, dict[str, Any]] = {
    "123456": {"status": "shipped", "eta_days": 2},
    "20261111": {"status": "processing", "eta_days": 5},
    "888888": {"status": "delivered", "eta_days": 0},
    "100001": {"status": "cancelled", "eta_days": 0},
}

#: callers the shipped flow sends straight to the vip queue (tier vip or gold); no
#: test caller of the menus uses these numbers (tests/integration: 136..., 138..., 139...)
CUSTOMERS: dict[str, dict[str, str]] = {
    "13800000888": {"tier": "vip"},
    "13800000666": {"tier": "gold"},
    "13800000111": {"tier": "standard"},
}


def order(number: str) -> dict[str, Any] | None:
    """The demo order `number`, or None."""
    found = ORDERS.get(number)
    return {"order": number, **found} if found is not None else None


def customer(caller: str) -> dict[str, str] | None:
    """The demo customer calling from `caller` (+86 and 0086 forms too), or None."""
    number = normalise_number(caller)
    found = CUSTOMERS.get(number) if number is not None else None
    return {"caller": number, **found} if found is not None and number else None
