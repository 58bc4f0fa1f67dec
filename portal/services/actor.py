"""Who is acting, and from where: passed from a face (web, API) into every service that checks or audits."""
from dataclasses import dataclass

from portal.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None
    ip: str | None = None
    request_id: str | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def role(self) -> str | None:
        return self.user.role if self.user else None


SYSTEM = Actor(user=None, ip=None, request_id=None)
