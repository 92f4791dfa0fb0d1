"""All models, imported here so that `Base.metadata` knows every table (Alembic reads it)."""

from db.models.associations import Association
from db.models.base import Base, UTCDateTime, utcnow
from db.models.courses import Course, CourseEdit, Registration
from db.models.outbox import Broadcast, Delivery
from db.models.people import FoundingInterest, Member, Subscription
from db.models.runtime import ConversationState
from db.models.users import Profile, Staff, User

__all__ = [
    "Association",
    "Base",
    "Broadcast",
    "ConversationState",
    "Course",
    "CourseEdit",
    "Delivery",
    "FoundingInterest",
    "Member",
    "Profile",
    "Registration",
    "Staff",
    "Subscription",
    "UTCDateTime",
    "User",
    "utcnow",
]
