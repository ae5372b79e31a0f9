"""Entry point for the DDP equivalence test: the fercl CLI with BatchNorm swapped for GroupNorm(1, C).

BatchNorm normalises over each process's share of the batch, so with it DDP cannot match one process
exactly; with a batch-independent normalisation everything else (sampling, views, gathered negatives,
gradient averaging) must agree to float precision.
"""

import torch

from fercl_cli.train import loop, model


def _without_batchnorm(arch: str, projection_dim: int = model.PROJECTION_DIM) -> model.ContrastiveModel:
    net = model.build_model(arch, projection_dim)
    for module in list(net.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, torch.nn.BatchNorm2d):
                setattr(module, child_name, torch.nn.GroupNorm(1, child.num_features))
    return net


loop.build_model = _without_batchnorm

if __name__ == "__main__":
    from fercl_cli.cli import main

    main()
