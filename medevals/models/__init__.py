"""Model backends behind one interface. See ``base.ModelBackend`` and ``registry.create_backend``."""
