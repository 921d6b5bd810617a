"""Running tsur for years: health and metrics read from the database at request time,
the check run before a service starts, and the services' logs."""
