"""The REST handlers, their bodies and HTTP answers, and jupyter_server's events."""
