"""Error types. `UserFacingError` messages are written for the person asking and are safe to show verbatim."""


class UserFacingError(Exception):
    """An error whose message is meant for the user (a bad question, a missing corpus)."""


class QuestionError(UserFacingError, ValueError):
    """The question cannot be searched as given (empty, too long, nothing searchable)."""


class CorpusError(UserFacingError):
    """The corpus folder or a document in it cannot be used."""


class IndexFileError(Exception):
    """An index file is missing, unreadable, of another format version, or built from other documents."""
