"""Pressroom's settings (see defaults.toml for every setting and its default)."""

from config.settings import ConfigError, Settings, data_dir, load_settings

__all__ = ["ConfigError", "Settings", "data_dir", "load_settings"]
