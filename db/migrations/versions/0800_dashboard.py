"""dashboard: one-time sign-in tickets and browser sessions of the staff dashboard

Revision ID: 0800_dashboard
Revises: 0710_form_states
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models.base

revision: str = "0800_dashboard"
down_revision: str | Sequence[str] | None = "0710_form_states"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_tickets",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", db.models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", db.models.base.UTCDateTime(), nullable=False),
        sa.Column("used_at", db.models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_web_tickets")),
    )
    op.create_index(op.f("ix_web_tickets_user_id"), "web_tickets", ["user_id"], unique=False)
    op.create_index(op.f("ix_web_tickets_expires_at"), "web_tickets", ["expires_at"], unique=False)
    op.create_table(
        "web_sessions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("created_at", db.models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", db.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.create_index(op.f("ix_web_sessions_expires_at"), "web_sessions", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_web_sessions_expires_at"), table_name="web_sessions")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_web_tickets_expires_at"), table_name="web_tickets")
    op.drop_index(op.f("ix_web_tickets_user_id"), table_name="web_tickets")
    op.drop_table("web_tickets")
