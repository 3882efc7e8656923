"""AuraRestore: restore an instance in place or overwrite it from another, once."""

#: The kinds an AuraRestore reaches: its target (spec.instanceRef) and the AuraSnapshot it
#: restores (spec.snapshotRef).
REFERENCES = ("instance", "snapshot")
