"""AuraGraphAnalyticsSession: one Graph Analytics (GDS) session, got or created exactly once."""

#: The kind an AuraGraphAnalyticsSession reaches: the AuraInstance it is attached to
#: (spec.instanceRef), for its instance id, tenant, credential and connection Secret's name.
REFERENCES = ("instance",)
