"""Entry points and wiring: the command line, configuration, the app factory, servers and the try-out."""
