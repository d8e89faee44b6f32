"""Count the messages an AMQP 0-9-1 byte stream carries, so that a relay can report messages per link
as the simulator does, not only bytes.

A frame is type (1 octet), channel (2), payload size (4), payload, frame-end 0xCE (AMQP 0-9-1 §4.2.3);
a message starts with a method frame (type 1) whose payload begins with class-id 60 (basic) and
method-id 40 (publish, client → broker) or 60 (deliver, broker → client). A connection opens with the
8-byte protocol header "AMQP" 0 0 9 1 (§4.2.2), which is skipped.
"""

from __future__ import annotations

import struct

from wanstack.lab.messages import MessageCounter

FRAME_HEADER = 7
FRAME_END = 1
METHOD_FRAME = 1
BASIC = 60
PUBLISH, DELIVER = 40, 60
PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"


class AmqpMessages(MessageCounter):
    """Feed one direction of one connection chunk by chunk; `count` is the messages seen so far."""

    def __init__(self) -> None:
        super().__init__()
        self.frames = 0
        self._pending = b""  # the start of a frame not complete enough to read its class and method
        self._started = False

    def feed(self, data: bytes) -> None:
        # The protocol header is looked for in the first bytes (not in an empty chunk).
        if data and not self._started:
            self._started = True
            if data[:1] == PROTOCOL_HEADER[:1]:  # no frame type starts with "A"
                self.skip = len(PROTOCOL_HEADER)
        super().feed(data)

    def read(self, view: memoryview) -> memoryview:
        # Read the frame header; for a method frame, also its class-id and method-id.
        want = FRAME_HEADER
        if len(self._pending) >= FRAME_HEADER and self._pending[0] == METHOD_FRAME:
            want += 4
        take = want - len(self._pending)
        self._pending += bytes(view[:take])
        view = view[take:]
        if len(self._pending) < want:
            return view  # all of it read: the rest comes with the next chunk
        kind, _channel, size = struct.unpack_from(">BHI", self._pending)
        if kind == METHOD_FRAME and len(self._pending) == FRAME_HEADER and size >= 4:
            return view  # now read the class-id and method-id
        self.frames += 1
        read = len(self._pending) - FRAME_HEADER
        if read:
            cls, method = struct.unpack_from(">HH", self._pending, FRAME_HEADER)
            if cls == BASIC and method in (PUBLISH, DELIVER):
                self.count += 1
        self.skip = size - read + FRAME_END
        self._pending = b""
        return view
