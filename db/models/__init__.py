"""All models, imported here so that `Base.metadata` knows every table (Alembic reads it)."""

from db.models.applications import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    DeletionRequest,
    PendingDecision,
)
from db.models.associations import Association
from db.models.base import Base, UTCDateTime, utcnow
from db.models.council import CouncilAnswerDraft, CouncilIssue, CouncilSupport
from db.models.courses import CheckInDesk, Course, CourseCertificate, CourseEdit, Registration
from db.models.directory import DirectoryDraft
from db.models.membership import DuesPayment, InviteClaim, MemberImport, MemberInvite
from db.models.news import NewsItem
from db.models.outbox import Broadcast, Delivery
from db.models.people import FoundingInterest, Member, Subscription
from db.models.rating import RatingScore
from db.models.runtime import ConversationState, InboxUpdate
from db.models.users import Profile, Staff, User
from db.models.web import WebSession, WebTicket

__all__ = [
    "Application",
    "ApplicationDocument",
    "ApplicationEvent",
    "Association",
    "Base",
    "Broadcast",
    "CheckInDesk",
    "ConversationState",
    "CouncilAnswerDraft",
    "CouncilIssue",
    "CouncilSupport",
    "Course",
    "CourseCertificate",
    "CourseEdit",
    "DeletionRequest",
    "Delivery",
    "DirectoryDraft",
    "DuesPayment",
    "FoundingInterest",
    "InboxUpdate",
    "InviteClaim",
    "Member",
    "MemberImport",
    "MemberInvite",
    "NewsItem",
    "PendingDecision",
    "Profile",
    "RatingScore",
    "Registration",
    "Staff",
    "Subscription",
    "UTCDateTime",
    "User",
    "WebSession",
    "WebTicket",
    "utcnow",
]
