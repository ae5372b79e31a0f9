"""The paper's ablation in miniature: configurations, decision rules, reading, summary, table, plot and the run."""
