"""AuraSnapshot: one on-demand snapshot of an instance, taken exactly once."""
