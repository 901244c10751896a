"""Per-community settings as the operators set them: one JSON value per key."""

from __future__ import annotations

import json
from typing import Any

from storage.book import BOOK
from storage.feature import FeatureStore

_sql = BOOK.section("settings")
UPSERT_SETTING = _sql.add("upsert_setting", """
    INSERT INTO community_settings (community_id, key, value) VALUES (?, ?, ?)
    ON CONFLICT DO UPDATE SET value = excluded.value""")
DELETE_SETTING = _sql.add("delete_setting", """
    DELETE FROM community_settings WHERE community_id = ? AND key = ?""")


class SettingsStore(FeatureStore):
    """Settings are read once, at start (``all_settings``), and written as they change."""

    def set_setting(self, community: str, key: str, value: Any) -> None:
        self.db.submit(UPSERT_SETTING, (community, key, json.dumps(value, ensure_ascii=False)))

    def clear_setting(self, community: str, key: str) -> None:
        self.db.submit(DELETE_SETTING, (community, key))

    async def all_settings(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for community, key, value in await self.db.rows(
            "SELECT community_id, key, value FROM community_settings"
        ):
            out.setdefault(community, {})[key] = json.loads(value)
        return out
