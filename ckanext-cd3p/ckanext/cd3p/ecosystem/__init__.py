"""Partner profiles and the partner directory: each organization's profile, ``/partners`` (every
partner as a list and on a map of service areas), who serves a place, the places of most need that
no partner serves (the gaps), and a user's partnership dashboard (issue 16)."""
