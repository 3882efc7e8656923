"""AuraSnapshot: one on-demand snapshot of an instance, taken exactly once."""

#: The kinds an AuraSnapshot reaches: the AuraInstance it snapshots (spec.instanceRef), and the
#: AuraRestores whose safety snapshots are AdHoc snapshots too (a lost answer is never one of
#: theirs).
REFERENCES = ("instance", "restore")
