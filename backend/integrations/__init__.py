"""Clients of third-party services, one package per kind of service (HackSoft's integrations/)."""
