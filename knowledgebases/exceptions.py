"""Domain errors of datasets and the model registry, each carrying RAGFlow's code and message."""

from ragflow_site.exceptions import DataError


class ModelNotFoundError(DataError):
    """A model reference names no provider, instance or model of the tenant."""


class DatasetAccessError(DataError):
    """The dataset does not exist or the caller may not act on it; both read the same on purpose."""


class DatasetNameConflictError(DataError):
    pass


class ProviderError(DataError):
    """A provider or instance cannot be added or changed as requested."""
