"""Reading the live feed over the test client: events as dicts, in the order the stream sent them."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

FEED = "/api/v1/dispatch/events"


def read_feed(client: Any, *, headers: dict[str, str] | None = None, query: str = "",
              then: Callable[[], Any] | None = None) -> list[dict[str, Any]]:
    """Open the feed, run ``then`` once the stream has started, and return every event it sends
    before it closes (the suite's streams last half a second: ``feed_stream_s``)."""
    response = client.get(FEED + query, headers=headers or {}, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    first = next(chunks).decode()
    assert first.startswith("retry:")
    if then is not None:
        then()
    text = "".join(chunk.decode() for chunk in chunks)
    response.close()
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if "data" in fields:
            event = json.loads(fields["data"])
            assert event["id"] == fields["id"]
            events.append(event)
    return events
