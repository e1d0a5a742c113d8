"""Tables of the system of record (SQLAlchemy 2 declarative models), one module per area.

Import from here: every table is registered on Base.metadata once this package is imported."""

from __future__ import annotations

from intake.models.base import Base, as_utc, utcnow
from intake.models.cases import Case, CaseCategory, CaseEvent, CaseEvidence, ComplaintDraft, Holiday, RoutingRule, Team
from intake.models.health import MonthlyReport, RegistryMonth, TallyFlag, TallyIndicator
from intake.models.messages import (
    Clarification,
    ConsentEvent,
    Contact,
    IdentityAttempt,
    InboundMessage,
    MessageStatusEvent,
    OutboundMessage,
)
from intake.models.notices import NoticeCampaign, NoticeCampaignEvent
from intake.models.registry import Household, Payment
from intake.models.staff import (
    Handoff,
    LoginFailure,
    PersonRequest,
    PersonRequestEvent,
    Staff,
    StaffAccount,
    StaffSession,
)
from intake.models.tally import AssistantAnswer, CommitteeSignoff, TallyCell, TallyMetric, TallySnapshot

__all__ = [
    "AssistantAnswer",
    "Base",
    "Case",
    "CaseCategory",
    "CaseEvent",
    "CaseEvidence",
    "Clarification",
    "CommitteeSignoff",
    "ComplaintDraft",
    "ConsentEvent",
    "Contact",
    "Handoff",
    "Holiday",
    "Household",
    "IdentityAttempt",
    "InboundMessage",
    "LoginFailure",
    "MessageStatusEvent",
    "MonthlyReport",
    "NoticeCampaign",
    "NoticeCampaignEvent",
    "OutboundMessage",
    "Payment",
    "PersonRequest",
    "PersonRequestEvent",
    "RegistryMonth",
    "RoutingRule",
    "Staff",
    "StaffAccount",
    "StaffSession",
    "TallyCell",
    "TallyFlag",
    "TallyIndicator",
    "TallyMetric",
    "TallySnapshot",
    "Team",
    "as_utc",
    "utcnow",
]
