"""course documents: tickets (signed codes), check-in at the door, attendance certificates

Revision ID: 0810_course_documents
Revises: 0800_dashboard
Create Date: 2026-12-02 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models.base

revision: str = "0810_course_documents"
down_revision: str | Sequence[str] | None = "0800_dashboard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("course_registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("checked_in_at", db.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("checked_in_by", sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_course_registrations_ticket_code"), ["ticket_code"]
        )
    op.create_table(
        "course_checkin_desks",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", db.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_checkin_desks_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_course_checkin_desks")),
    )
    op.create_table(
        "course_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issued_at", db.models.base.UTCDateTime(), nullable=False),
        sa.Column("issued_by", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", db.models.base.UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_certificates_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_course_certificates_code")),
    )
    op.create_index(op.f("ix_course_certificates_course_id"), "course_certificates", ["course_id"], unique=False)
    op.create_index(op.f("ix_course_certificates_user_id"), "course_certificates", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_course_certificates_user_id"), table_name="course_certificates")
    op.drop_index(op.f("ix_course_certificates_course_id"), table_name="course_certificates")
    op.drop_table("course_certificates")
    op.drop_table("course_checkin_desks")
    with op.batch_alter_table("course_registrations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_course_registrations_ticket_code"), type_="unique")
        batch_op.drop_column("checked_in_by")
        batch_op.drop_column("checked_in_at")
        batch_op.drop_column("ticket_code")
