"""The catalog: one file per service in services/, one folder per feature in profiles/.

Both are data. They are found by listing their folders and validated once, against one schema,
naming the file and key that is wrong. No code in paxx names a particular service, feature or
provider: `schema` is the shape, `load` reads each file, `checks` checks a service file,
`references` checks what spans files, `selection` says which provider gives each feature and
which services run.
"""

from paxx_env.catalog.checks import COMPOSE_KEYS, HEALTHCHECK_KEYS
from paxx_env.catalog.load import (
    load_catalog,
    load_feature,
    load_service,
)
from paxx_env.catalog.schema import (
    Catalog,
    Feature,
    Profile,
    ProfileFile,
    Provider,
    Service,
    ServiceMeta,
)
from paxx_env.catalog.selection import (
    Conflict,
    Selection,
    conflicts,
    fitting_provider,
    or_list,
    provider_hint,
    resolve_providers,
    select,
)

__all__ = [
    "COMPOSE_KEYS",
    "HEALTHCHECK_KEYS",
    "Catalog",
    "Conflict",
    "Feature",
    "Profile",
    "ProfileFile",
    "Provider",
    "Selection",
    "Service",
    "ServiceMeta",
    "conflicts",
    "fitting_provider",
    "load_catalog",
    "load_feature",
    "load_service",
    "or_list",
    "provider_hint",
    "resolve_providers",
    "select",
]
