"""Core: settings, logging, metrics and small helpers every other layer may use."""
