"""npctrial.web: the Django EDC. The only layer that imports Django."""
