"""inbox: updates stored before they are acknowledged (replaces processed_updates)

Revision ID: 0700_inbox
Revises: 0610_council
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models.base

revision: str = "0700_inbox"
down_revision: str | Sequence[str] | None = "0610_council"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", db.models.base.UTCDateTime(), nullable=False),
        sa.Column("handled_at", db.models.base.UTCDateTime(), nullable=True),
        sa.Column("done_at", db.models.base.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("parked_at", db.models.base.UTCDateTime(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
    )
    op.create_index(op.f("ix_inbox_done_at"), "inbox", ["done_at"], unique=False)
    # Ids handled before the upgrade stay known, so a late redelivery is still recognised.
    op.execute(
        "INSERT INTO inbox (update_id, payload, received_at, handled_at, done_at, attempts) "
        "SELECT update_id, '{}', processed_at, processed_at, processed_at, 0 FROM processed_updates"
    )
    op.drop_table("processed_updates")
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("interrupted", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("interrupted")
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", db.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    op.execute(
        "INSERT INTO processed_updates (update_id, processed_at) "
        "SELECT update_id, COALESCE(done_at, received_at) FROM inbox WHERE handled_at IS NOT NULL"
    )
    op.drop_index(op.f("ix_inbox_done_at"), table_name="inbox")
    op.drop_table("inbox")
