"""Domain errors: services raise these, and each face (API, web) translates them once."""


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str = "", code: str | None = None):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or "").strip()
        if code:
            self.code = code


class NotFound(DomainError):
    """Not found."""

    code = "not_found"


class Forbidden(DomainError):
    """You may not do this."""

    code = "forbidden"


class Unauthenticated(DomainError):
    """Authentication failed."""

    code = "unauthenticated"


class Conflict(DomainError):
    """This conflicts with the current state."""

    code = "conflict"


class RuleRefusal(DomainError):
    """A rule of the clinic refuses this (the API's 422 with the rule's code: too_soon, too_far, too_late,
    no_show_limit). The message is a sentence for the patient, saying what to do instead."""

    code = "rule_refusal"


class RateLimited(DomainError):
    """Too many attempts; try again later."""

    code = "rate_limited"

    def __init__(self, retry_after: int, message: str = ""):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class Unavailable(DomainError):
    """A service this needs cannot be reached for a moment; try again shortly."""

    code = "unavailable"

    def __init__(self, message: str = "", code: str | None = None, retry_after: int = 5):
        super().__init__(message, code)
        self.retry_after = retry_after


class Invalid(DomainError):
    """Some fields are not valid."""

    code = "validation_error"

    def __init__(self, fields: dict[str, list[str]], message: str = ""):
        super().__init__(message or "Some fields are not valid.")
        self.fields = fields

    @classmethod
    def field(cls, name: str, problem: str) -> "Invalid":
        return cls({name: [problem]})


class TooLarge(DomainError):
    """This is too large."""

    code = "too_large"
