"""A CRM screen pop from acd's live events (docs/integration.md).

    python docs/examples/screen_pop.py http://acd.example.com:8080 agent1001 PASSWORD \
        "https://crm.example.com/customers?phone={caller}&order={order}"

Logs in as the agent's user, subscribes to `call.offered` on /api/live and, each time
the agent's phone rings, opens the customer's page in the browser with the caller's
number (as the agent's role may see it: masked unless privacy.full_numbers_for lets
agents see numbers) and what the IVR collected (here the order number).
"""

from __future__ import annotations

import asyncio
import json
import sys
import webbrowser
from urllib.parse import quote

import aiohttp


async def screen_pop(base: str, user: str, password: str, page: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/login",
                             json={"username": user, "password": password}) as resp:
            resp.raise_for_status()
            token = (await resp.json())["token"]
        while True:  # reconnect for ever: acd restarts, networks fail
            try:
                async with http.ws_connect(f"{base}/api/live", heartbeat=30) as ws:
                    await ws.send_json({"type": "auth", "token": token})
                    await ws.send_json({"type": "subscribe", "events": ["call.offered"]})
                    async for msg in ws:
                        message = json.loads(msg.data)
                        if message.get("type") == "event":
                            pop(message["event"], page)
                    if ws.close_code == 4401:  # the session ended: log in again
                        return await screen_pop(base, user, password, page)
            except aiohttp.ClientError as exc:
                print(f"live stream lost ({exc}); reconnecting", file=sys.stderr)
            await asyncio.sleep(2)


def pop(event: dict, page: str) -> None:
    data = event["data"]
    url = page.format(caller=quote(data.get("caller", "")),
                      order=quote(data.get("variables", {}).get("order", "")))
    print(f"{event['call_id']}: {data.get('caller')} in {data.get('queue')} -> {url}")
    webbrowser.open(url)


if __name__ == "__main__":
    asyncio.run(screen_pop(*sys.argv[1:5]))
