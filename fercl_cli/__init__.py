"""fercl: self-supervised contrastive learning of facial-expression representations.

The library is importable without Typer; heavy dependencies (torch, dlib, OpenCV) are imported
inside the modules that need them so that ``fercl --help`` stays instant.
"""

__version__ = "0.1.0"
