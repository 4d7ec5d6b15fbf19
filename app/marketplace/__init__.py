"""The marketplace directory (contracts and users): one client, the only way in."""
