"""AuraInstance: one Aura instance, created once, kept as its spec says; password in a Secret."""

#: The kinds an AuraInstance reaches (tests/unit/test_layout.py checks its imports against this):
#: an AuraSnapshot to clone from (spec.source.snapshotRef), an AuraCustomerManagedKey to be
#: encrypted with (spec.customerManagedKeyRef).
REFERENCES = ("snapshot", "customer_key")
