"""AuraCredential: a client id and secret the other kinds name, its budget and its users."""

#: An AuraCredential reaches no other kind (every other kind names it: spec.credentialRef).
REFERENCES: tuple[str, ...] = ()
