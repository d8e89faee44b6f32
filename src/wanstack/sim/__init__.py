"""The discrete-event simulator: kernel, network, stations, messaging, workflows, faults."""
