"""Both ends of synchronization: the wire protocol, the laptop's engine, the agency server."""
