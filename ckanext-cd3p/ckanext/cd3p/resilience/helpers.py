"""Template helpers of resilience: none yet (its page takes its message from the view)."""
