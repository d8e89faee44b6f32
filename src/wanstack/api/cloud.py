"""A real OpenStack cloud from Python (the cloud extra): every region's servers asked at once, each
within a deadline (`inventory`), as `wanstack inventory --cloud` shows them. Errors of the cloud's APIs
come back as `CloudError`, naming the cloud."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wanstack.multiregion.cloud_inventory import CloudInventory, RegionAnswer


class CloudError(RuntimeError):
    """A cloud's API failed or lacks what was asked; the message names the cloud."""


def read_inventory(path: Path) -> dict[str, RegionAnswer]:
    """Each region's answer in an inventory written by `wanstack inventory --cloud --json` (the rows of
    `wanstack.report.cloud_inventory.cloud_inventory_json`), to pass to `inventory` as `previous`.
    Raises ValueError for a file that is not one."""
    from wanstack.multiregion.cloud_inventory import answers_from_json

    try:
        return answers_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(str(err)) from err


def inventory(
    cloud: str,
    regions: Sequence[str] | None = None,
    *,
    deadline_s: float = 10.0,
    previous: dict[str, RegionAnswer] | None = None,
) -> CloudInventory:
    """How many servers `cloud` (its clouds.yaml name) holds in every region of `regions` (default:
    every one with a compute endpoint), each region asked at once and given `deadline_s`: each site
    live, last known (from `previous`, as of when) or never answered, and the total as an interval when
    some did not answer. Raises CloudError when the cloud's Keystone cannot be used."""
    from wanstack.extras import importing

    with importing("cloud", "a real cloud's inventory"):
        import openstack

    from wanstack.multiregion.cloud_inventory import inventory as ask

    try:
        return ask(cloud, regions=regions, deadline_s=deadline_s, previous=previous)
    except openstack.exceptions.SDKException as err:
        raise CloudError(f"{cloud}: {err}") from err
