"""One module per CI platform: each turns a spec into a plain view-model dict for its templates."""
