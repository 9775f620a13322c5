"""The errors the core raises, so the UI and the CLI can tell people what to do."""


class TandemError(Exception):
    """Base of every error the core raises on purpose."""


class ValidationError(TandemError):
    """Input was rejected; `problems` maps each bad field to what is wrong with it.

    One error names every bad field at once, so a form can mark them all.
    """

    def __init__(self, table: str, problems: dict[str, str]):
        self.table = table
        self.problems = dict(problems)
        listed = "; ".join(f"{field}: {why}" for field, why in self.problems.items())
        super().__init__(f"{table}: {listed}")


class NotFound(TandemError):
    """A record id that is not in this cache."""

    def __init__(self, table: str, record_id: str):
        self.table = table
        self.record_id = record_id
        super().__init__(f"{table} {record_id!r} not found")


class WrongPassword(TandemError):
    """The password does not unwrap this user's data key."""


class NoCache(TandemError):
    """This user has no cache on this laptop yet; the first sign-in must be online."""


class KeyMissing(TandemError):
    """No wrapped data key exists for this cache; the user must sign in online again."""


class CacheUnreadable(TandemError):
    """The cache file exists but cannot be opened with the key we hold."""


class CacheDamaged(TandemError):
    """The cache opens with its key but some of its pages cannot be read (a disk fault, a
    write cut off by hardware, tampering: every page carries its own seal). `set_aside`: where
    the damaged file was moved, once it has been."""

    def __init__(self, message: str, set_aside=None):
        super().__init__(message)
        self.set_aside = set_aside
