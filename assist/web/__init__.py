"""The customer-side front ends served by Assist: the demo bank app and the assist SDK."""
