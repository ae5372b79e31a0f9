"""Contrastive losses of fercl pretraining: InfoNCE over the paper's view pairs and MaskFN variants.

Each loss has a pure function over global candidates (``info_nce``, ``maskfn_terms``/``maskfn_loss``)
and a DDP-aware ``nn.Module`` (``InfoNCELoss``, ``MaskFNLoss``). ``view_index`` builds the pair/clip ids
of the ``[A, NA, P, NP]`` layout; ``gather_views`` collects views across ranks with gradients.
"""

from fercl_cli.train.losses.gather import (
    gather_no_grad,
    gather_views,
    gather_with_grad,
    sum_over_ranks,
    world,
)
from fercl_cli.train.losses.info_nce import InfoNCELoss, info_nce
from fercl_cli.train.losses.layout import ViewIndex, view_index
from fercl_cli.train.losses.maskfn import (
    MASKFN_MODES,
    MaskFNLoss,
    MaskFNOutput,
    MaskFNTerms,
    false_negatives,
    maskfn_loss,
    maskfn_terms,
)

__all__ = [
    "MASKFN_MODES",
    "InfoNCELoss",
    "MaskFNLoss",
    "MaskFNOutput",
    "MaskFNTerms",
    "ViewIndex",
    "false_negatives",
    "gather_no_grad",
    "gather_views",
    "gather_with_grad",
    "info_nce",
    "maskfn_loss",
    "maskfn_terms",
    "sum_over_ranks",
    "view_index",
    "world",
]
