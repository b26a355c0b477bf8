"""Pure Block Kit renderers: model in, blocks and a plain-text fallback out."""
