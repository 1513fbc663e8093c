"""The routes that serve the front ends: the demo bank's app, the SDK bundle, the consoles."""
