"""`python -m wanstack`: the `wanstack` command."""

from wanstack.cli_common import main

if __name__ == "__main__":
    main()
