"""Shared aliases for wire shapes."""

from __future__ import annotations

from typing import Any

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
Response = dict[str, Any]
