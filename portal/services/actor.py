"""Who is acting, and from where: passed from a face (web, API) into every service that checks or audits."""
from dataclasses import dataclass

from portal.models import Role, User


@dataclass(frozen=True)
class Actor:
    user: User | None
    ip: str | None = None
    request_id: str | None = None
    # Set when someone acts through a signed link from a mail (a reminder's "I'll come" / "Cancel") without
    # signing in: they act as this patient, for that patient's appointments only, under a patient's rules.
    # `user` is then the patient's own account, if they have one, so audit rows name them.
    link_patient_id: int | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def role(self) -> str | None:
        if self.link_patient_id is not None:
            return Role.PATIENT.value
        return self.user.role if self.user else None


SYSTEM = Actor(user=None, ip=None, request_id=None)
