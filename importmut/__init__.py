"""importmut: mutation testing for Python import statements."""

__version__ = "0.1.0"
