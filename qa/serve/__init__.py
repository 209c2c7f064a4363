"""The faces of the service: the web app (pages and JSON API) and the command line."""
