"""`python -m wanstack`: the `wanstack` command."""

from wanstack.cli.main import main

if __name__ == "__main__":
    main()
