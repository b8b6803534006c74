"""One exception family, so the CLI can print a single clear line instead of a traceback."""


class TfbenchError(Exception):
    """Base class: the message names what went wrong and what to do about it."""


class UnknownNameError(TfbenchError, KeyError):
    """An adapter, suite, metric or backend name that is not registered."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class AdapterArgumentError(TfbenchError, ValueError):
    """A spec string names an argument the adapter does not take, or a value it cannot use."""


class AdapterError(TfbenchError):
    """The adapter failed or returned something that breaks the protocol (shape, NaN, range)."""


class ManifestError(TfbenchError, ValueError):
    """A suite manifest or an image it points to is missing or malformed."""


class ImageLoadError(TfbenchError):
    """An image file is missing, unreadable or corrupt."""


class MissingWeightsError(TfbenchError, FileNotFoundError):
    """Model weights are neither on disk nor downloadable (offline)."""


class ResultsError(TfbenchError, ValueError):
    """A results or records file is malformed or from an incompatible run."""
