"""``python -m fercl_cli`` runs the command line (also under ``torchrun -m fercl_cli``)."""

from fercl_cli.cli import main

if __name__ == "__main__":
    main()
