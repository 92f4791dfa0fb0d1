"""council: the staff answer form keeps the typed answer on its draft row

Revision ID: 0610_council
Revises: 0600_form_engine
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0610_council"
down_revision: str | Sequence[str] | None = "0600_form_engine"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("council_answer_drafts") as batch:
        batch.add_column(sa.Column("answer", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("council_answer_drafts") as batch:
        batch.drop_column("answer")
