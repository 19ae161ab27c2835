"""HubSpot CRM v3 emulator: objects, search, batch, properties, associations v4, owners,
timeline v3 events and templates.

Public surface: `create_app(config)` builds the FastAPI app, `load_dataset(app, path)` loads
a generated dataset, `HubSpotConfig` holds the portal's limits, tokens and scopes.
"""

from .app import create_app, load_dataset
from .config import HubSpotConfig

__all__ = ["HubSpotConfig", "create_app", "load_dataset"]
