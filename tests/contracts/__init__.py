"""Contract tests: the line's requests to Twilio, checked by Prism against Twilio's own OpenAPI description."""
