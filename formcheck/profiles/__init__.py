"""Threshold profiles (TOML) shipped with formcheck."""
