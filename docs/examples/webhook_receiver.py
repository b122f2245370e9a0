"""An example webhook receiver for acd's events (docs/integration.md).

    ACD_WEBHOOK_SECRET=... python docs/examples/webhook_receiver.py 8099

It checks each delivery's signature and age, drops a repeat by the event's id, and
prints the event. Answer 2xx only once the event is safely yours: acd sends it again
(the same id) until you do, and holds the events behind it until then.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
from collections import OrderedDict

from aiohttp import web

#: deliveries older (or newer) than this are refused: a captured request replayed later
TOLERANCE_SECONDS = 300
#: ids remembered to drop repeats (acd sends at least once)
SEEN_MAX = 100_000


def verified(secret: str, timestamp: str, body: bytes, signature: str, now: float) -> bool:
    try:
        if abs(now - float(timestamp)) > TOLERANCE_SECONDS:
            return False
    except ValueError:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def make_app(secret: str, handle=print) -> web.Application:  # noqa: ANN001 (any callable)
    seen: OrderedDict[str, None] = OrderedDict()

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        if not verified(secret, request.headers.get("X-Acd-Timestamp", ""), body,
                        request.headers.get("X-Acd-Signature", ""), time.time()):
            return web.Response(status=401, text="bad signature or too old")
        event = json.loads(body)
        if event["id"] in seen:
            return web.Response(status=204)  # a repeat: already handled
        handle(event)
        seen[event["id"]] = None
        if len(seen) > SEEN_MAX:
            seen.popitem(last=False)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/acd/events", events)
    return app


if __name__ == "__main__":
    web.run_app(make_app(os.environ["ACD_WEBHOOK_SECRET"]), host="127.0.0.1",
                port=int(sys.argv[1]) if len(sys.argv) > 1 else 8099)
