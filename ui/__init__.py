"""Tandem's PySide6 layer. Importing this package does not import Qt; `ui.qt` does."""
