"""What several features of the plugin use."""
