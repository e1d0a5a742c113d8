"""Custom actions of the Línea Ciudadana assistant (rasa_sdk); they reach data only through intake's internal API."""
