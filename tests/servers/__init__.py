"""Real servers from Debian's packages (Redis, PostgreSQL, nginx, coturn) started on free
loopback ports for the scale-out tests, and Assist nodes as separate `assist serve` processes."""
