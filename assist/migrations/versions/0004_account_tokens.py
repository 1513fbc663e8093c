"""account tokens: a token generation per user, demo accounts marked, when the generation moved

Every access token carries its user's generation; sign-out, disabling, a password reset and a
role change bump it, and nodes notice a change by `changed_at` (assist/accounts.py). Accounts
seeded by demo mode before this revision are marked by their names, so a server started with
demo mode off disables them.
Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The demo accounts as they were seeded (assist/demo.py DEMO_USERS), fixed here: a revision
# must not change with the code.
DEMO_USERNAMES = ("zhangsan", "lisi", "agent01", "agent02", "super01")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_generation", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("changed_at", sa.Float(), nullable=True))
        batch.create_index("ix_users_changed_at", ["changed_at"])
    users = sa.table("users", sa.column("username", sa.String), sa.column("demo", sa.Boolean))
    op.execute(users.update().where(users.c.username.in_(DEMO_USERNAMES)).values(demo=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_changed_at")
        batch.drop_column("changed_at")
        batch.drop_column("demo")
        batch.drop_column("token_generation")
