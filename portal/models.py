"""Import every model, so that the metadata (and Alembic) knows all tables."""

from portal.api.models import ApiToken
from portal.applications.models import Application, ApplicationEvent
from portal.auth.models import Role, User
from portal.documents.models import Document
from portal.institutions.models import Institution
from portal.jobs import Job
from portal.mail import OutgoingMail
from portal.nominations.models import Nomination
from portal.offers.models import LetterTemplate, Offer
from portal.profiles.models import LanguageSkill, StudentProfile
from portal.programs.models import (
    MailTemplate,
    Program,
    ProgramEvent,
    ProgramQuestion,
    ProgramQuota,
    ProgramStaff,
    RubricCriterion,
    program_partners,
)
from portal.reviews.models import Review, ReviewScore

__all__ = [
    "ApiToken",
    "Application",
    "ApplicationEvent",
    "Document",
    "Institution",
    "Job",
    "LanguageSkill",
    "LetterTemplate",
    "MailTemplate",
    "Nomination",
    "Offer",
    "OutgoingMail",
    "Program",
    "ProgramEvent",
    "ProgramQuestion",
    "ProgramQuota",
    "ProgramStaff",
    "Review",
    "ReviewScore",
    "Role",
    "RubricCriterion",
    "StudentProfile",
    "User",
    "program_partners",
]
