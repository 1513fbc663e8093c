"""record upserts: per-field update times on help_requests

Several nodes write one help request; each field keeps the time of the update that set it, so
an older update arriving late never overwrites a newer value (assist/storage/upsert.py).
Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("help_requests", sa.Column("updated_at", sa.Float(), nullable=True))
    # JSONB on PostgreSQL: the upsert merges it with `||`; SQLite keeps JSON text (json_set).
    op.add_column("help_requests", sa.Column("field_at", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("help_requests") as batch:
        batch.drop_column("field_at")
        batch.drop_column("updated_at")
