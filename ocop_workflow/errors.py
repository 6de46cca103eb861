"""Typed errors of the domain. Each carries its message in Vietnamese and English."""

from __future__ import annotations

from .i18n import Text, join


class OcopError(Exception):
    """Base of every error a user may see; `code` is stable for APIs and tests."""

    code = "error"

    def __init__(self, text: Text, **details: object) -> None:
        super().__init__(text.en)
        self.text = text
        self.details = details

    def message(self, locale: str | None = None) -> str:
        return self.text.get(locale)


class NotFound(OcopError):
    code = "not_found"


class PermissionDenied(OcopError):
    code = "permission_denied"


class StaleVersion(OcopError):
    code = "stale_version"

    def __init__(self, expected: int | None = None, actual: int | None = None, text: Text | None = None) -> None:
        super().__init__(
            text
            or Text(
                "Hồ sơ đã được người khác cập nhật; vui lòng tải lại trang và thử lại.",
                "Someone else has changed this product in the meantime; reload it and try again.",
            ),
            expected=expected,
            actual=actual,
        )


class InvalidTrigger(OcopError):
    code = "invalid_trigger"


class InvalidData(OcopError):
    code = "invalid_data"


class Conflict(OcopError):
    """The request is right but the record is no longer in a state that allows it (a round already
    closed, a product already closed by someone else): reload and look."""

    code = "conflict"


class GuardFailed(OcopError):
    """A move the rules refuse. `missing` lists every unmet requirement at once."""

    code = "guard_failed"

    def __init__(self, missing: list[Text]) -> None:
        head = Text("Chưa thể chuyển bước: ", "This step cannot be taken yet: ")
        body = join(missing)
        super().__init__(Text(head.vi + body.vi, head.en + body.en), missing=missing)
        self.missing = missing


class DefinitionError(Exception):
    """One or more mistakes in workflow definition files, each with file and line."""

    def __init__(self, problems: list[tuple[str, int | None, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(self.format_problem(p) for p in problems))

    @staticmethod
    def format_problem(problem: tuple[str, int | None, str]) -> str:
        path, line, message = problem
        return f"{path}:{line}: {message}" if line else f"{path}: {message}"
