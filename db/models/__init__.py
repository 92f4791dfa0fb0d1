"""All models, imported here so that `Base.metadata` knows every table (Alembic reads it)."""

from db.models.base import Base, UTCDateTime, utcnow
from db.models.runtime import ConversationState
from db.models.users import Profile, Staff, User

__all__ = ["Base", "ConversationState", "Profile", "Staff", "UTCDateTime", "User", "utcnow"]
