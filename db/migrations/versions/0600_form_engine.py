"""form engine: the question being answered on every draft row; founding members; notice buttons

Revision ID: 0600_form_engine
Revises: 0500_rating_council
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0600_form_engine"
down_revision: str | Sequence[str] | None = "0500_rating_council"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DRAFT_TABLES = (
    "applications",
    "pending_decisions",
    "profiles",
    "council_issues",
    "council_answer_drafts",
    "course_edits",
    "directory_drafts",
    "news_items",
    "broadcasts",
)


def upgrade() -> None:
    for table in DRAFT_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("form_field", sa.String(length=40), nullable=True))
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("buttons", sa.Text(), nullable=True))
    with op.batch_alter_table("pending_decisions") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fields_done", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("founding", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("founding", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.alter_column("member_number", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM members WHERE member_number IS NULL")
    with op.batch_alter_table("members") as batch:
        batch.alter_column("member_number", existing_type=sa.String(length=32), nullable=False)
        batch.drop_column("founding")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("founding")
    with op.batch_alter_table("pending_decisions") as batch:
        batch.drop_column("fields_done")
        batch.drop_column("reason")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("buttons")
    for table in reversed(DRAFT_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("form_field")
