"""AuraCustomerManagedKey: a customer-managed encryption key in Aura, created once."""
