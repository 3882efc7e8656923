"""The AuraInstance kind: an Aura database instance and the Secrets applications mount."""
