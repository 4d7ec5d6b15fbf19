"""Admin routers: thin HTTP mapping over the store, the worker and the replays."""
