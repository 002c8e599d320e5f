"""Thin Lambda handlers: parse the event, build clients, call tunestack_runtime."""
