"""dosetrail: prove that donated vaccines reached the people they were meant for."""

__version__ = "0.1.0"
