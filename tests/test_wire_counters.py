"""The relays count messages by parsing the byte stream (AMQP 0-9-1 frames, the NATS protocol): the
count must not depend on how TCP cut the stream into chunks, nor on what else the stream carries."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from wanstack.lab.amqp import PROTOCOL_HEADER, AmqpMessages
from wanstack.lab.natsproto import NatsMessages

payloads = st.lists(st.binary(max_size=300), max_size=12)


def _cut(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    return [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]


def _amqp_frame(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", kind, 1, len(payload)) + payload + b"\xce"


@given(payloads, st.lists(st.integers(min_value=0), max_size=20), st.booleans())
def test_amqp_counts_publishes_and_deliveries_however_the_stream_is_cut(
    bodies: list[bytes], cuts: list[int], opening: bool
) -> None:
    stream = PROTOCOL_HEADER if opening else b""
    stream += _amqp_frame(1, struct.pack(">HH", 10, 11) + b"start-ok")  # connection.start-ok: not one
    for i, body in enumerate(bodies):
        method = 40 if i % 2 else 60  # basic.publish, basic.deliver
        stream += _amqp_frame(1, struct.pack(">HH", 60, method) + b"\x00" * 9)
        stream += _amqp_frame(2, struct.pack(">HHQ", 60, 0, len(body)))  # content header
        stream += _amqp_frame(3, body)
        stream += _amqp_frame(1, struct.pack(">HH", 60, 80) + b"\x00" * 9)  # basic.ack: not one
    counter = AmqpMessages()
    for chunk in _cut(stream, cuts):
        counter.feed(chunk)
    assert counter.count == len(bodies)


@given(payloads, st.lists(st.integers(min_value=0), max_size=20))
def test_nats_counts_messages_however_the_stream_is_cut(bodies: list[bytes], cuts: list[int]) -> None:
    stream = b'INFO {"server_id":"x"}\r\nCONNECT {"verbose":false}\r\nSUB openstack.t0 q 1\r\n'
    ops = [b"PUB openstack.t0 _INBOX.a %d", b"MSG openstack.t0 1 %d", b"RMSG $G openstack.t0 + _INBOX.a q %d"]
    for i, body in enumerate(bodies):
        # A payload may hold anything, CRLFs and operation names included.
        stream += ops[i % 3] % len(body) + b"\r\n" + body + b"\r\nPING\r\nPONG\r\nRS+ $G openstack.t0\r\n"
        # The servers' own events: not the application's messages.
        stream += b"RMSG $SYS $SYS.SERVER.X.STATSZ %d\r\n" % len(body) + body + b"\r\n"
        if i % 4 == 3:
            headers = b"NATS/1.0\r\nA: b\r\n\r\n"
            stream += (
                b"HPUB s %d %d\r\n" % (len(headers), len(headers) + len(body)) + headers + body + b"\r\n"
            )
    counter = NatsMessages()
    for chunk in _cut(stream, cuts):
        counter.feed(chunk)
    assert counter.count == len(bodies) + len(bodies) // 4
