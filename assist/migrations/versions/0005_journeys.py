"""journeys: callbacks, the customer's rating, and the scam warning on the record

A request can be a callback (the customer asked to be phoned back); after a session the
customer may rate it (satisfied / neutral / unsatisfied, with an optional comment); a transfer
to a new payee during a session shows a scam warning, and the record notes when it was seen.
Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("help_requests", sa.Column("callback", sa.Boolean(), nullable=True))
    op.add_column("help_requests", sa.Column("rating", sa.String(16), nullable=True))
    op.add_column("help_requests", sa.Column("rating_comment", sa.Text(), nullable=True))
    op.add_column("help_requests", sa.Column("scam_warning_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("help_requests") as batch:
        batch.drop_column("scam_warning_at")
        batch.drop_column("rating_comment")
        batch.drop_column("rating")
        batch.drop_column("callback")
