"""Assist: remote assistance and offline voice for mobile banking (composition root)."""
