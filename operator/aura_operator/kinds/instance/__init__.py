"""AuraInstance: one Aura instance, created once, kept as its spec says; password in a Secret."""
