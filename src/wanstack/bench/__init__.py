"""The real bench: real oslo.messaging traffic through real RabbitMQ nodes over emulated WAN links."""
