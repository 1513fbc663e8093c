"""event keys: a timeline entry's unique key, so a retried delivery is written once

Scaled out, record updates travel through a Redis stream (assist/storage/record_stream.py);
an entry whose writer died before acknowledging it is delivered again, and its key (the stream
entry id) makes the second insert a no-op.
Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("request_events", sa.Column("event_key", sa.String(64), nullable=True))
    op.create_index("ux_request_events_event_key", "request_events", ["event_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_request_events_event_key", table_name="request_events")
    op.drop_column("request_events", "event_key")
