"""AuraCredential: a client id and secret the other kinds name, its budget and its users."""
