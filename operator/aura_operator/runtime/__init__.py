"""The kind pattern every kind shares: controller, intents, outcomes, scheduling, plans."""
