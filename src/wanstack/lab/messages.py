"""Counting the messages in a protocol's byte stream, so that a relay reports messages per link as the
simulator does, not only bytes: what every protocol's counter shares (fed one direction of one
connection chunk by chunk, it passes over the payloads it has been told of unread); each protocol
(`amqp`, `natsproto`) reads only its own framing."""

from __future__ import annotations


class MessageCounter:
    """Feed one direction of one connection chunk by chunk; `count` is the messages seen so far. A
    protocol's counter reads its framing in `read`: it counts what the framing announces and sets
    `skip` to the bytes that follow unread (a payload, the frame's end)."""

    def __init__(self) -> None:
        self.count = 0
        self.skip = 0  # bytes still to pass over before the next framing

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.skip:
                step = min(self.skip, len(view))
                self.skip -= step
                view = view[step:]
            else:
                view = self.read(view)

    def read(self, view: memoryview) -> memoryview:
        """Read framing from the start of `view` (keeping what is incomplete for the next chunk) and
        return the rest."""
        raise NotImplementedError
