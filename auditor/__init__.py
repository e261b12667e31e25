"""govaudit: compliance auditor for Chinese government websites and government new media."""

__version__ = "0.1.0"
