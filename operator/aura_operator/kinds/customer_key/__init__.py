"""AuraCustomerManagedKey: a customer-managed encryption key in Aura, created once."""

#: An AuraCustomerManagedKey reaches no other kind (instances reach it).
REFERENCES: tuple[str, ...] = ()
