"""Multi-region management: quotas enforced across regions (`quota`) and the inventory of everything
across them."""
