"""The process entry point: the `catalog-sync` console script and `python -m catalog_sync`."""

import gc


def main() -> None:
    # A command runs once and exits (cli.main ends with os._exit). The cyclic
    # collector would walk the objects of every import and of the run again and
    # again and free almost nothing, so it stays off (~10% of the start-up);
    # `schedule`, which runs for days, turns it back on.
    gc.disable()
    from catalog_sync.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
