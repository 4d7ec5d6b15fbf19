"""The composition root: the services container, its lifespan and the FastAPI dependency."""
