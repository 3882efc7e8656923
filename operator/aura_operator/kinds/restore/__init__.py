"""AuraRestore: restore an instance in place or overwrite it from another, once."""
