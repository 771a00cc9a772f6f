"""The application's one typed settings object.

Read from a TOML file (``--config FILE``, else ``BACKISSUE_CONFIG``, else ``./config.toml``
when present, else built-in defaults that index the bundled sample issues), then
overridden by environment variables ``BACKISSUE_…`` (``__`` for nesting, for example
``BACKISSUE_EMBEDDING__BATCH_SIZE=64``). Secrets come only from the environment.

``sections`` holds the tables of the file (``[embedding]``, ``[[sources]]``…), ``model`` the whole object and what
it derives (paths in the data folder, the index's source specs), ``loading`` the reading of a file and the
messages that name the key, the file and the reason.
"""

from bot.settings.loading import ConfigError, config_path, load_settings
from bot.settings.model import ENV_PREFIX, Settings
from bot.settings.sections import (
    BUNDLED_EXAMPLES,
    PROJECT_ROOT,
    AnnounceSettings,
    AnswersSettings,
    ChannelSettings,
    ChromaSettings,
    DiscordSettings,
    EmbeddingSettings,
    FeedbackSettings,
    IndexSettings,
    SourceSettings,
)

__all__ = [
    "BUNDLED_EXAMPLES", "ENV_PREFIX", "PROJECT_ROOT", "AnnounceSettings", "AnswersSettings", "ChannelSettings",
    "ChromaSettings", "ConfigError", "DiscordSettings", "EmbeddingSettings", "FeedbackSettings", "IndexSettings",
    "Settings", "SourceSettings", "config_path", "load_settings",
]
