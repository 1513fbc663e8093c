"""Deployment helpers: configuration files for what runs around the Assist nodes (docs/deploy.md)."""
