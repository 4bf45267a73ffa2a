"""Ports for the servers the system tests start on 127.0.0.1."""
from autograder.authoring.local_postgres import free_port

__all__ = ["free_port"]
