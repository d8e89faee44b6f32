"""The quota bench: a real Keystone, the quota service (coordinator and regions) and oslo.limit as
Nova runs it, each region behind its own WAN relay (`sites`), and what is measured on them (`runs`)."""
