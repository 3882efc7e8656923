"""Kubernetes access: the only package that imports the kubernetes client (`api.py`)."""
