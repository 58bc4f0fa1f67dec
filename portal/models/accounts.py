"""Accounts: users, their portal sessions, API token families, refresh tokens and reset tokens."""
import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class Role(str, enum.Enum):
    PATIENT = "patient"
    DOCTOR = "doctor"
    ADMIN = "admin"


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("ix_users_role_approved", "role", "approved"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.PATIENT.value)
    approved: Mapped[bool] = mapped_column(default=True)
    is_active_flag: Mapped[bool] = mapped_column("is_active", default=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    gender: Mapped[str | None] = mapped_column(String(32))
    dob: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(String(40))
    profile_pic_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    patient = relationship("Patient", back_populates="user", uselist=False, foreign_keys="Patient.user_id")
    doctor = relationship("Doctor", back_populates="user", uselist=False)

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.is_active_flag

    @property
    def can_sign_in(self) -> bool:
        return self.is_active_flag and self.approved

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username} {self.role}>"


Index("uq_users_username_lower", func.lower(User.username), unique=True)
Index("uq_users_email_lower", func.lower(User.email), unique=True)


class UserSession(Base):
    """One row per portal login; deleting the cookie is not enough to end a session, ending this row is."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()


class TokenFamily(Base):
    """All refresh tokens descended from one login; access tokens name their family, so revoking it ends both."""

    __tablename__ = "token_families"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(ForeignKey("token_families.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None]

    family: Mapped[TokenFamily] = relationship()


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
