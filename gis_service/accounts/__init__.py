"""Sign-in, start, my-tokens and user-administration pages."""
