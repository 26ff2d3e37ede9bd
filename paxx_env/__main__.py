"""Entry point of the `paxx` command (and `python -m paxx_env`)."""

from __future__ import annotations


def main() -> None:
    """Run the command line."""
    from paxx_env.cli import main as run

    run()


if __name__ == "__main__":
    main()
