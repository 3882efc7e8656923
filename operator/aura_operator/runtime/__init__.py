"""The kind pattern every kind shares: the exactly-once intents and the kind controller."""
