"""wanstack's plug-ins for the OpenStack services of its testbed (they run in OpenStack's own
environment, `.venv-openstack`): `ml2.BindEveryHost`, and `serve`, the WSGI server of each API."""
