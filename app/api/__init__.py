"""HTTP: the app factory and thin routers (admin, merges, health); webhooks: app/webhooks."""
