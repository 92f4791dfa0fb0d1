"""form states: conversations of the redesigned forms (one state per form; the field is on the draft)

Revision ID: 0710_form_states
Revises: 0700_inbox
Create Date: 2026-12-02 14:00:00

Before the form engine each question was a conversation state ("apply:mobile"); now a form has one
state ("apply:form") and the question being answered is on the draft row (`form_field`, NULL after
this upgrade: the form asks the first unanswered question, which is where such a user was). Forms
kept their names where they could; the conversations that were renamed are dropped (their drafts
stay, and the form's buttons and menu entry take the user back to them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0710_form_states"
down_revision: str | Sequence[str] | None = "0700_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = ("apply", "profile", "announce")
RENAMED = (
    "council",
    "council_staff",
    "course_feedback",
    "course_staff",
    "directory_search",
    "directory_staff",
    "news_post",
    "review",
)


def upgrade() -> None:
    for name in KEPT:
        op.execute(
            sa.text("UPDATE conversation_states SET state = :state WHERE name = :name").bindparams(
                state=f'"{name}:form"', name=name
            )
        )
    for name in RENAMED:
        op.execute(sa.text("DELETE FROM conversation_states WHERE name = :name").bindparams(name=name))


def downgrade() -> None:
    # The older code knows no "<form>:form" state: those users start their forms again from the
    # menu (their answers are on the draft rows).
    op.execute(
        sa.text("DELETE FROM conversation_states WHERE state LIKE :pattern").bindparams(pattern='%:form"')
    )
