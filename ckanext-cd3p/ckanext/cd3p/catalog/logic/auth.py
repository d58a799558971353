"""The catalog has no auth functions of its own: its chained actions (logic/action.py) change only
what core's actions return, after core's own auth functions decided who may call them."""

from __future__ import annotations
