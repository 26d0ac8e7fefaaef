"""Data: the demo generator, strict loading, preparation, GX validation and DVC versioning."""
