"""What the quota service takes: every number that reaches a database column is a whole number (never a
JSON `true`, never a float) within bounds that keep every column and every sum written from them inside
a signed 64-bit integer (the columns are `BigInteger`: SQLite's INTEGER, PostgreSQL's and MySQL's
BIGINT). Anything else is refused with 400 and a message naming the field.

- a limit (`PUT os-quota-sets`): 1 … 2^31 − 1, Nova's own maximum (`nova/db/constants.py` MAX_INT, the
  `maximum` of its quota-set schema); Kingbird takes whole numbers above 0 (`kingbird/common/utils.py`
  validate_quota_limits);
- a claim's amount per resource: 0 … 2^31 − 1, at least one above 0 (no more than any limit can be);
- a region's usage of one project's resource: at most 2^62 (a claim taking it past is refused), so any
  two usages still add up inside 2^63;
- a sync's `sync_no` (1 …) and `applied_seq` (0 …): at most 2^62 (counters of syncs and instructions);
- a sync's `share`: null or 0 … 2^31 − 1 (a share is granted out of a limit); its `used`: 0 … 2^62;
- names (projects, regions): 1 … 64 characters, the String(64) columns.
"""

from __future__ import annotations

from typing import Any

from wanstack.multiregion.service.http import HttpError

MAX_LIMIT = 2**31 - 1  # Nova's MAX_INT (nova/db/constants.py)
MAX_AMOUNT = MAX_LIMIT
MAX_USAGE = 2**62
MAX_COUNTER = 2**62
MAX_NAME = 64  # the String(64) columns of projects and regions (Keystone's ids are 32 or 64 characters)


def whole(value: Any, what: str, low: int, high: int) -> int:
    """`value` when it is a whole number (not a bool) in low … high, else HttpError 400 naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise HttpError(400, f"{what}: a whole number is wanted, not {type(value).__name__} {value!r:.40}")
    if not low <= value <= high:
        raise HttpError(400, f"{what}: {value!r:.40} is out of bounds ({low} … {high})")
    return value


def name(value: Any, what: str) -> str:
    """`value` when it is a non-empty string of at most MAX_NAME characters, else HttpError 400."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME:
        raise HttpError(400, f"{what}: a name of 1 to {MAX_NAME} characters is wanted, not {value!r:.80}")
    return value
