"""A Nova virt driver that does what the libvirt driver does around a guest, without a guest.

`compute_driver = wanstack_guestless.GuestlessLibvirt` (Nova imports a driver from under `nova.virt`
only, nova/virt/driver.py `load_compute_driver`: wanstack_openstack/daemon.py puts this module there).
On a spawn, in libvirt's order:
1. the image comes from Glance into the host's image cache, `<instances_path>/_base/<sha1(image id)>`,
   once per host: libvirt's `_create_image` → `imagebackend.Image.cache` (a lock per cached file, no
   download when it is there) → `libvirt_utils.fetch_image` → nova/virt/images.py `fetch_to_raw`, whose
   `fetch` downloads the bytes through Nova's image API (`IMAGE_API.download`). The download is the
   same; the raw conversion (`qemu-img convert`) is left out: the testbed's images are raw already
   and no qemu-img is installed;
2. the VIFs are plugged while Nova waits for Neutron's `network-vif-plugged` of each port not yet
   active: libvirt's `_create_guest_with_network` (`_get_neutron_events`; `wait_for_instance_event`
   with `vif_plugging_timeout`; on a timeout, fatal or not by `vif_plugging_is_fatal`, and the VIFs
   unplugged when fatal). A VIF is plugged with os-vif's `ovs` plug-in, which makes the OVS port with
   the external ids libvirt's `<virtualport type='openvswitch'>` would set (iface-id, attached-mac,
   vm-uuid, iface-status); the tap device QEMU would open is made in the switch's network namespace
   (`[wanstack_guestless] ovs_namespace`, wanstack/lab/ovs.py) before the port, so Open vSwitch gives
   it an OpenFlow port and Neutron's agent sees it;
3. the guest's define-and-start takes `[wanstack_guestless] spawn_seconds`, inside that wait (libvirt
   starts the domain paused and resumes it once the events came);
then the fake driver's bookkeeping (the instance RUNNING). A destroy unplugs the VIFs (libvirt's
`destroy` → `cleanup` → `_unplug_vifs`) and removes the tap. Nothing is copied from Nova: the
functions named are where each step comes from.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import time
from typing import Any

import os_vif
from nova import exception
from nova.network import model as network_model
from nova.network import os_vif_util
from nova.virt import fake, images
from oslo_concurrency import lockutils
from oslo_config import cfg
from oslo_log import log as logging

from wanstack_openstack.tracing import PORT_TRACE, port_trace

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
OPTS = [
    cfg.StrOpt(
        "ovs_namespace",
        default="",
        help="The network namespace of the site's ovs-vswitchd, where guests' tap devices are made "
        "(empty: the current one).",
    ),
    cfg.FloatOpt(
        "spawn_seconds",
        default=2.0,
        help="How long the guest's define and start takes, inside the wait for network-vif-plugged.",
    ),
    cfg.FloatOpt(
        "shutdown_seconds",
        default=0.0,
        help="How long powering the guest off and undefining it takes (delete).",
    ),
    cfg.FloatOpt("pause_seconds", default=0.0, help="How long pausing or unpausing the guest takes."),
]
CONF.register_opts(OPTS, group="wanstack_guestless")


def cached_image(image_id: str) -> str:
    """Where the host's image cache keeps an image: `<instances_path>/<_base>/<sha1 of its id>`, as
    nova/virt/libvirt/imagecache.py `get_cache_fname` and imagebackend.py `Image.cache` name it."""
    name = hashlib.sha1(image_id.encode("utf-8")).hexdigest()
    return os.path.join(CONF.instances_path, CONF.image_cache.subdirectory_name, name)


class GuestlessLibvirt(fake.FakeDriverWithoutFakeNodes):  # type: ignore[misc]
    """Nova's fake driver (a stable node identity) with libvirt's image cache, VIF plugging and wait
    for Neutron's events."""

    def init_host(self, host: str) -> None:
        super().init_host(host)
        os_vif.initialize()  # as nova/virt/libvirt/vif.py's LibvirtGenericVIFDriver does at import

    def spawn(  # noqa: PLR0913, PLR0917 - nova/virt/driver.py ComputeDriver.spawn's signature
        self,
        context: Any,
        instance: Any,
        image_meta: Any,
        injected_files: Any,
        admin_password: Any,
        allocations: Any,
        network_info: Any = None,
        block_device_info: Any = None,
        power_on: bool = True,
        accel_info: Any = None,
    ) -> None:
        if instance.image_ref:
            self._fetch_image(context, instance.image_ref)
        network_info = network_info or []
        timeout = CONF.vif_plugging_timeout
        # libvirt's _get_neutron_events: the ports not active yet (Neutron will say when they are).
        events = [
            ("network-vif-plugged", vif["id"])
            for vif in network_info
            if vif.get("active", True) is False and vif["vnic_type"] != network_model.VNIC_TYPE_REMOTE_MANAGED
        ]
        if not (power_on and timeout):
            events = []
        try:
            with self.virtapi.wait_for_instance_event(
                instance, events, timeout=timeout, error_callback=self._neutron_failed
            ):
                self.plug_vifs(instance, network_info)
                time.sleep(CONF.wanstack_guestless.spawn_seconds)  # the domain defined and started
        except exception.InstanceEventTimeout:
            if CONF.vif_plugging_is_fatal:
                self.unplug_vifs(instance, network_info)
                raise exception.VirtualInterfaceCreateException() from None
        except Exception:
            self.unplug_vifs(instance, network_info)
            raise
        super().spawn(
            context,
            instance,
            image_meta,
            injected_files,
            admin_password,
            allocations,
            network_info=network_info,
            block_device_info=block_device_info,
            power_on=power_on,
            accel_info=accel_info,
        )

    def _neutron_failed(self, event_name: str, instance: Any) -> None:
        # libvirt's _neutron_failed_callback
        LOG.error("Neutron reported failure on event %s", event_name, instance=instance)
        if CONF.vif_plugging_is_fatal:
            raise exception.VirtualInterfaceCreateException()

    def _fetch_image(self, context: Any, image_id: str) -> None:
        path = cached_image(image_id)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # One download per image and host, however many spawns ask at once (imagebackend's lock).
        with lockutils.lock(
            os.path.basename(path), external=True, lock_path=os.path.dirname(path) + "/locks"
        ):
            if os.path.exists(path):
                LOG.debug("image %s is in the cache: %s", image_id, path)
                return
            start = time.monotonic()
            # nova/virt/images.py fetch_to_raw's download into `<path>.part`, then the file in place.
            images.fetch(context, image_id, path + ".part")
            os.rename(path + ".part", path)
            LOG.info(
                "image %s fetched from Glance into %s: %d bytes in %.2f s",
                image_id,
                path,
                os.path.getsize(path),
                time.monotonic() - start,
            )

    # --- VIFs ----------------------------------------------------------------------------------
    def _ip(self, *args: str) -> None:
        namespace = CONF.wanstack_guestless.ovs_namespace
        argv = ["ip", *(("-n", namespace) if namespace else ()), *args]
        subprocess.run(argv, check=True, capture_output=True, timeout=30)

    def _vsctl(self, *args: str) -> None:
        argv = ["ovs-vsctl", f"--db={CONF.os_vif_ovs.ovsdb_connection}", *args]
        subprocess.run(argv, check=True, capture_output=True, timeout=30)

    def plug_vifs(self, instance: Any, network_info: Any) -> None:
        """Plug each VIF with os-vif (libvirt's vif.py `LibvirtGenericVIFDriver.plug` → `_plug_os_vif`)."""
        info = os_vif_util.nova_to_osvif_instance(instance)
        for vif in network_info:
            plugged = os_vif_util.nova_to_osvif_vif(vif)
            if plugged is None:
                raise exception.VirtualInterfacePlugException(f"no os-vif plug-in for VIF type {vif['type']}")
            if vif["type"] == network_model.VIF_TYPE_OVS:
                # The tap QEMU would open, up, in the switch's namespace; then the OVS port, which
                # libvirt makes for a netdev datapath and os-vif makes when asked to (`create_port`).
                self._ip("tuntap", "add", "dev", vif["devname"], "mode", "tap")
                self._ip("link", "set", vif["devname"], "up")
                plugged.port_profile.create_port = True
            os_vif.plug(plugged, info)
            if vif["type"] == network_model.VIF_TYPE_OVS and (trace := port_trace()) is not None:
                # The boot's trace goes with the port to Neutron's agent (tracing.trace_agent_ports);
                # a trace never fails a boot.
                with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                    self._vsctl("set", "Interface", vif["devname"], f'external_ids:{PORT_TRACE}="{trace}"')

    def unplug_vifs(self, instance: Any, network_info: Any) -> None:
        """Unplug each VIF (libvirt's `_unplug_vifs`) and remove its tap device, ignoring what is
        already gone."""
        info = os_vif_util.nova_to_osvif_instance(instance)
        for vif in network_info or []:
            unplugged = os_vif_util.nova_to_osvif_vif(vif)
            try:
                if unplugged is not None:
                    os_vif.unplug(unplugged, info)
            except Exception:
                LOG.warning("unplugging %s failed", vif["id"], exc_info=True, instance=instance)
            if vif["type"] == network_model.VIF_TYPE_OVS:
                with contextlib.suppress(subprocess.CalledProcessError):  # never made, or gone
                    self._ip("link", "del", vif["devname"])

    def destroy(  # noqa: PLR0917 - nova/virt/driver.py ComputeDriver.destroy's signature
        self,
        context: Any,
        instance: Any,
        network_info: Any,
        block_device_info: Any = None,
        destroy_disks: bool = True,
        destroy_secrets: bool = True,
    ) -> None:
        # libvirt's destroy: the domain powered off (virDomainDestroy) and undefined, its disks
        # removed (nova/virt/libvirt/driver.py `destroy`, `_destroy`, `cleanup`).
        time.sleep(CONF.wanstack_guestless.shutdown_seconds)
        super().destroy(context, instance, network_info, block_device_info, destroy_disks, destroy_secrets)
        self.unplug_vifs(instance, network_info)

    def pause(self, instance: Any) -> None:
        time.sleep(CONF.wanstack_guestless.pause_seconds)  # libvirt's pause: virDomainSuspend
        super().pause(instance)

    def unpause(self, instance: Any) -> None:
        time.sleep(CONF.wanstack_guestless.pause_seconds)  # libvirt's unpause: virDomainResume
        super().unpause(instance)
