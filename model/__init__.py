"""bedplan: planning model for NHS secure mental health services."""

__version__ = "0.1.0"
