"""Button (block_actions) listeners."""
