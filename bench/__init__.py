"""The benchmark: many AuraInstances on one credential, the simulator and a real API server."""
