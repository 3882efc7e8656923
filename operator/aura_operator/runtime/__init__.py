"""The kind pattern every kind shares: controller, intents, claims and grants, outcomes."""
