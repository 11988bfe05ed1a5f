"""The process entry point: the `catalog-sync` console script and `python -m catalog_sync`.

It applies the process policy (catalog_sync._runtime) before anything else is
imported; library code never does."""


def main() -> None:
    from catalog_sync import _runtime

    _runtime.start_one_shot()  # `schedule` switches to the long-running policy itself
    from catalog_sync.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
