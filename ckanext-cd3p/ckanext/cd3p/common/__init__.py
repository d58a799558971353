"""What several features use: Detroit geography, the model base, page and action helpers, bad-input
rules, the partner tier, the small-cell threshold and the request memo."""
