"""membership terms: term dates and verification codes on members, the association's term rule,
dues payments, and invitations for imported members

Revision ID: 0820_membership_terms
Revises: 0810_course_documents
Create Date: 2026-12-02 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models.base

revision: str = "0820_membership_terms"
down_revision: str | Sequence[str] | None = "0810_course_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("associations") as batch:
        batch.add_column(sa.Column("term_months", sa.Integer(), nullable=True))
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("term_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("term_end", sa.Date(), nullable=True))
        batch.add_column(sa.Column("revoked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("verify_code", sa.String(length=24), nullable=True))
        batch.create_index(batch.f("ix_members_term_end"), ["term_end"], unique=False)
        batch.create_unique_constraint(batch.f("uq_members_verify_code"), ["verify_code"])
    op.create_table(
        "dues_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount_rials", sa.BigInteger(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("payload", sa.String(length=64), nullable=False),
        sa.Column("charge_id", sa.String(length=128), nullable=True),
        sa.Column("receipt_number", sa.String(length=24), nullable=True),
        sa.Column("photo_file_id", sa.String(length=256), nullable=True),
        sa.Column("created_at", db.models.base.UTCDateTime(), nullable=False),
        sa.Column("paid_at", db.models.base.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("form_field", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_dues_payments_member_id_members"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_dues_payments_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues_payments")),
        sa.UniqueConstraint("payload", name=op.f("uq_dues_payments_payload")),
        sa.UniqueConstraint("charge_id", name=op.f("uq_dues_payments_charge_id")),
        sa.UniqueConstraint("receipt_number", name=op.f("uq_dues_payments_receipt_number")),
    )
    op.create_index(op.f("ix_dues_payments_member_id"), "dues_payments", ["member_id"], unique=False)
    op.create_index(op.f("ix_dues_payments_association_id"), "dues_payments", ["association_id"], unique=False)
    op.create_index(op.f("ix_dues_payments_user_id"), "dues_payments", ["user_id"], unique=False)
    op.create_index(op.f("ix_dues_payments_status"), "dues_payments", ["status"], unique=False)
    op.create_table(
        "member_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=256), nullable=False),
        sa.Column("national_id", sa.String(length=10), nullable=False),
        sa.Column("member_number", sa.String(length=32), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", db.models.base.UTCDateTime(), nullable=False),
        sa.Column("bound_at", db.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_member_invites_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_invites")),
        sa.UniqueConstraint("association_id", "national_id", name=op.f("uq_member_invites_association_id_national_id")),
        sa.UniqueConstraint("token", name=op.f("uq_member_invites_token")),
    )
    op.create_index(op.f("ix_member_invites_association_id"), "member_invites", ["association_id"], unique=False)
    op.create_table(
        "invite_claims",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("invite_id", sa.Integer(), nullable=False),
        sa.Column("national_id", sa.String(length=10), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("form_field", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["invite_id"],
            ["member_invites.id"],
            name=op.f("fk_invite_claims_invite_id_member_invites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_invite_claims")),
    )
    op.create_table(
        "member_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.Column("created_at", db.models.base.UTCDateTime(), nullable=False),
        sa.Column("done_at", db.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_member_imports_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_imports")),
    )
    op.create_index(op.f("ix_member_imports_staff_id"), "member_imports", ["staff_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_member_imports_staff_id"), table_name="member_imports")
    op.drop_table("member_imports")
    op.drop_table("invite_claims")
    op.drop_index(op.f("ix_member_invites_association_id"), table_name="member_invites")
    op.drop_table("member_invites")
    for column in ("status", "user_id", "association_id", "member_id"):
        op.drop_index(op.f(f"ix_dues_payments_{column}"), table_name="dues_payments")
    op.drop_table("dues_payments")
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint(batch.f("uq_members_verify_code"), type_="unique")
        batch.drop_index(batch.f("ix_members_term_end"))
        batch.drop_column("verify_code")
        batch.drop_column("revoked")
        batch.drop_column("term_end")
        batch.drop_column("term_start")
    with op.batch_alter_table("associations") as batch:
        batch.drop_column("term_months")
