"""Template helpers of data requests: none yet (the pages come with the next slice of issue 16)."""
