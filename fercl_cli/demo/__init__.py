"""``fercl demo``: the whole chain on the embedded sample data, and the miniature ablation of the paper."""
