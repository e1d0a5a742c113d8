"""Línea Ciudadana worker: the Celery app and its tasks (thin adapters over intake's domain modules)."""
