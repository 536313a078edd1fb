"""moderation: self-hosted comment moderation and spam classification."""

__version__ = "0.1.0"

__all__ = ["__version__"]
