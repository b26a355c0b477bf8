"""Listeners for modal submissions (``view_submission``)."""
