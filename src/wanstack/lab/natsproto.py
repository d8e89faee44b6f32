"""Count the messages a NATS client connection carries, so that a relay reports messages per link for
NATS as it does for AMQP (`lab.amqp`).

The NATS client protocol is text lines ending in CRLF (https://docs.nats.io/reference/reference-
protocols/nats-protocol): a message is `PUB <subject> [reply-to] <#bytes>` (client → server) or
`MSG <subject> <sid> [reply-to] <#bytes>` (server → client), or their variants with headers, `HPUB`
and `HMSG`, whose last field is the total of headers and payload; the payload and a CRLF follow. Every
other operation (INFO, CONNECT, SUB, UNSUB, PING, PONG, +OK, -ERR, and between servers RS+, RS-) is one
line.
"""

from __future__ import annotations

from wanstack.lab.messages import MessageCounter

CRLF = b"\r\n"
# Between servers a route forwards a message as `RMSG <account> <subject> [reply] [queues] <#bytes>`
# (or HMSG with headers); a leaf node connection as LMSG.
WITH_PAYLOAD = {b"PUB", b"MSG", b"HPUB", b"HMSG", b"RMSG", b"LMSG"}
SYSTEM_ACCOUNT = b"$SYS"


class NatsMessages(MessageCounter):
    """Feed one direction of one connection chunk by chunk; `count` is the messages seen so far."""

    def __init__(self) -> None:
        super().__init__()
        self._line = b""  # the start of an operation line not yet ended

    def read(self, view: memoryview) -> memoryview:
        end = bytes(view).find(b"\n")
        if end < 0:
            self._line += bytes(view)
            return view[len(view) :]
        line = (self._line + bytes(view[:end])).rstrip(b"\r")
        self._line = b""
        fields = line.split()
        if fields and fields[0].upper() in WITH_PAYLOAD:
            # The servers' own events (statistics, connection advisories) travel in the system
            # account: bytes on the link, not the application's messages.
            if fields[1:2] != [SYSTEM_ACCOUNT]:
                self.count += 1
            self.skip = int(fields[-1]) + len(CRLF)
        return view[end + 1 :]
